/**
 * The DeadlockError of a shared lock's refused wait (shared/fail-fast.ts): the cycle as data,
 * with threads named by what this thread knows of them.
 */
import { DeadlockError, type DeadlockStep } from '../errors.js';
import { flush } from '../recorder.js';
import { rt, type Flow, type ResourceRec } from '../runtime.js';
import { siteOf } from '../sites.js';
import { ErrorCode, Op, sync } from '../sync.js';
import { lockName, publishWait, sharedCycle, type SharedStep } from './fail-fast.js';

/**
 * Publishes that thread `tag` is blocked on lock `id`, and throws a DeadlockError (withdrawing
 * the wait, and recording the refusal) if that closes a cycle of blocked threads. `call` is the
 * method the user called, where the error's stack starts.
 */
export function refuseIfCycle(
  tag: number,
  id: number,
  flow: Flow,
  resource: ResourceRec,
  site: number,
  call: (...args: never[]) => unknown,
): void {
  if (!publishWait(tag, id)) return;
  const cycle = sharedCycle(tag, id);
  if (!cycle) return;
  publishWait(tag, 0);
  const err = deadlockErrorFor(flow, site, cycle, lockName);
  Error.captureStackTrace(err, call);
  sync(Op.error, flow, resource, site, ErrorCode.deadlockVictim);
  if (rt.recording) flush();
  throw err;
}

/**
 * `cycle` starts with this thread's own wait (by `flow`, at `site`); `lockName` names a lock id
 * this thread knows (others are "shared lock #id"), and a thread is named by its id.
 */
export function deadlockErrorFor(
  flow: Flow,
  site: number,
  cycle: readonly SharedStep[],
  lockName: (id: number) => string | undefined,
): DeadlockError {
  const me = cycle[0]!.tag;
  const threadName = (tag: number): string => (tag === me && flow.name) || `thread ${tag - 1}`;
  const at = siteOf(site);
  const steps: DeadlockStep[] = cycle.map((s, i) => ({
    task: threadName(s.tag),
    resource: lockName(s.lock) ?? `shared lock #${s.lock}`,
    blockedBy: threadName(s.holder),
    ahead: false,
    ...(i === 0 && at ? { site: { file: at.file, line: at.line, column: at.column } } : {}),
  }));
  const chain = steps
    .map(
      (s, i) =>
        (i > 0 ? `which waits for ${s.resource}, ` : '') +
        `${s.resource} is held by ${s.blockedBy}` +
        (i === steps.length - 1 ? ' itself' : ''),
    )
    .join(', ');
  return new DeadlockError(
    `${steps[0]!.task} cannot wait for ${steps[0]!.resource} without deadlocking: ${chain}. It ` +
      'was chosen as the victim; it acquired nothing by this call, so it can release what it ' +
      'holds and retry.',
    steps,
  );
}
