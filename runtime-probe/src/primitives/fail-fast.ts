/**
 * Fail-fast deadlock detection: with `configure({ failFast: true })` (or LOCKSCOPE_FAIL_FAST=1),
 * an acquisition that would close a cycle of waits rejects with a DeadlockError at once, the way
 * a database chooses a deadlock victim, instead of hanging. The victim is the task whose request
 * closes the cycle; it has acquired nothing by this call, so it can release what it holds, back
 * off and retry. The probe records the refusal (an `error` event with VICTIM), and the analysis
 * reports the averted deadlock as a warning.
 *
 * Each lock says which flows must move before a request of it can be granted (its holders, and
 * for a read-write lock the waiters its policy puts first): a mutex has one, so the waits from a
 * request form a chain, and following it costs one step per task on it; a read-write lock can
 * have many, and the search visits each waiting flow at most once.
 */
import { DeadlockError, type DeadlockStep } from '../errors.js';
import { resolved } from '../identity.js';
import { shared, type Flow, type ResourceRec } from '../runtime.js';
import { whenDecided } from '../runs.js';
import { siteOf } from '../sites.js';
import { ErrorCode, Op, sync } from '../sync.js';

/** What fail-fast detection needs from a lock. */
export interface WaitTarget {
  readonly resource: ResourceRec;
  /**
   * The flows that must move before `flow`'s request (in `mode`, for a read-write lock) can be
   * granted: each one that holds the lock, or that waits for it and goes first (`ahead`).
   */
  blockersOf(flow: Flow, mode: number): Iterable<Blocker>;
}

/** A flow that stands between a request and its lock. */
export interface Blocker {
  flow: Flow;
  /** True for a waiter the lock serves first; false for a holder. */
  ahead: boolean;
}

interface Waiting {
  target: WaitTarget;
  mode: number;
  site: number;
  /** The wait itself: once done (granted, failed, timed out) it waits for nothing. */
  waiter: { readonly done: boolean };
}

// Shared by both builds, so that a cycle through locks of the ESM and CJS builds is seen whole.
const waiting = shared('fail-fast-waits.v2', () => new WeakMap<Flow, Waiting>());

interface Step {
  flow: Flow;
  wait: Waiting;
  next: Flow;
  ahead: boolean;
}

/**
 * The cycle that `flow` waiting for `target` would close, from `flow` around to it, or
 * undefined. A flow whose identity is uncertain could be two flows: no cycle goes through it.
 */
export function wouldDeadlock(flow: Flow, request: Waiting): Step[] | undefined {
  const me = resolved(flow);
  if (me.uncertain) return undefined;
  const seen = new Set<number>();
  const path: Step[] = [];
  const search = (at: Flow, wait: Waiting): boolean => {
    for (const b of wait.target.blockersOf(at, wait.mode)) {
      const next = resolved(b.flow);
      if (next.uncertain) continue;
      path.push({ flow: at, wait, next, ahead: b.ahead });
      if (next.id === me.id) return true;
      // An entry is removed a microtask after its wait ended; until then it is not a wait.
      const further = waiting.get(next);
      if (!seen.has(next.id) && further && !further.waiter.done) {
        seen.add(next.id);
        if (search(next, further)) return true;
      }
      path.pop();
    }
    return false;
  };
  return search(me, request) ? path : undefined;
}

function errorFor(cycle: Step[], origin: { stack?: string }): DeadlockError {
  const steps: DeadlockStep[] = cycle.map(({ flow, wait, next, ahead }) => {
    const s = siteOf(wait.site);
    return {
      task: flow.name,
      resource: wait.target.resource.name,
      blockedBy: next.name,
      ahead,
      ...(s ? { site: { file: s.file, line: s.line, column: s.column } } : {}),
    };
  });
  const me = steps[0]!;
  // "a is held by first, which waits for b, b is held by second itself"
  const chain = steps
    .map(
      (s, i) =>
        (i > 0 ? `which waits for ${s.resource}, ` : '') +
        `${s.resource} is ${s.ahead ? 'wanted first by' : 'held by'} ${s.blockedBy}` +
        (i === steps.length - 1 ? ' itself' : ''),
    )
    .join(', ');
  const err = new DeadlockError(
    `${me.task} cannot wait for ${me.resource} without deadlocking: ${chain}. It was chosen as ` +
      'the victim; it acquired nothing by this call, so it can release what it holds and retry.',
    steps,
  );
  // The stack of the user's call (captured when the wait began), not of the probe's judgement.
  // (A wait judged after a deferral has no user frame above `call`; it keeps its own stack.)
  const frames = origin.stack?.indexOf('\n') ?? -1;
  if (frames > 0) err.stack = `${err.name}: ${err.message}${origin.stack!.slice(frames)}`;
  return err;
}

/**
 * Judges a wait that has just been queued: fails it with a DeadlockError if it closes a cycle,
 * and otherwise records it until `until` settles. A provisional flow is judged once its
 * synchronous run has decided who it is (runs.ts): judged too early, a flow of its own could pass
 * for its caller and make a false cycle. `call` is the public method the user called, so that
 * the error's stack starts at the user's line.
 */
export function judgeWait(
  flow: Flow,
  target: WaitTarget,
  waiter: { fail(error: unknown): boolean; readonly done: boolean },
  until: Promise<unknown>,
  request: {
    mode: number;
    site: number;
    call: (...args: never[]) => unknown;
    /** Undoes what the lock did for the queued request, once it is refused. */
    refused?: () => void;
  },
): void {
  const origin: { stack?: string } = {};
  Error.captureStackTrace(origin, request.call);
  const wait: Waiting = { target, mode: request.mode, site: request.site, waiter };
  // Judged later when the flow is provisional: the analysis is told, so that it confirms no
  // cycle through this wait before the judgement, which may come in another batch.
  const later = flow.alias !== undefined;
  if (later) sync(Op.judging, flow, target.resource, request.site, 1);
  const judge = (): void => {
    const cycle = wouldDeadlock(flow, wait);
    if (cycle) {
      if (waiter.fail(errorFor(cycle, origin))) {
        sync(Op.error, flow, target.resource, request.site, ErrorCode.deadlockVictim);
        request.refused?.();
        return;
      }
    }
    if (later) sync(Op.judging, flow, target.resource, request.site, 0);
    if (cycle) return;
    const me = resolved(flow);
    waiting.set(me, wait);
    const done = (): void => {
      if (waiting.get(me) === wait) waiting.delete(me);
    };
    until.then(done, done);
  };
  whenDecided(flow, judge);
}
