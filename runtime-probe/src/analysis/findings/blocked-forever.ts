/**
 * Blocked forever: tasks still waiting when their process has nothing left to run, and nothing
 * that could wake them.
 */
import type { FindingContext } from './context.js';
import { WAIT_SEND, type ResourceState, type TaskState } from '../model.js';

export function reportBlockedForever(
  ctx: FindingContext,
  r: ResourceState,
  tasks: TaskState[],
  at: number,
): void {
  const who = tasks.map((t) => t.name).join(', ');
  const verb = tasks.length > 1 ? 'wait' : 'waits';
  const dir = tasks[0]!.waitDir;
  let why: string;
  let fix: string;
  switch (r.kind) {
    case 'channel':
      why =
        dir === WAIT_SEND
          ? `to send on ${r.name}, and no task is left to receive`
          : `to receive from ${r.name}, and no task is left to send to it or close it`;
      fix =
        dir === WAIT_SEND
          ? 'Make sure a consumer keeps receiving until the producers are done, or give the channel room.'
          : 'Close the channel when the producers are done (channel.close()), so that receivers finish.';
      break;
    case 'condition':
    case 'shared-condition':
      why = `on ${r.name}, and no task is left to notify it`;
      fix =
        'Notify after every change of the state the waiters check, and wait with waitFor(predicate).';
      break;
    case 'barrier':
    case 'shared-barrier': {
      // The parties that arrived in earlier phases and not in this one are the missing ones.
      const missing = [...r.signallers.keys()].filter((s) => !r.waiters.has(s));
      why = missing.length
        ? `at ${r.name}, and the other parties will never arrive: ${missing
            .map((m) => `${m.name} arrived in an earlier phase${m.ended ? ' and has ended' : ''}`)
            .join('; ')}`
        : `at ${r.name}, and the other parties will never arrive`;
      fix =
        'Make every party reach the barrier in each phase, or break it with abort() when one leaves.';
      break;
    }
    case 'event':
      why = `for ${r.name}, and no task is left to set it`;
      fix = 'Set the event on every path, including errors, or wait with a timeout.';
      break;
    case 'waitgroup':
      why = `for ${r.name}, whose count will never reach zero`;
      fix = 'Call done() once for each add(), in a finally block.';
      break;
    case 'task':
      why = `for ${r.name} to end, and it never will`;
      fix = 'Make sure the joined task can finish: it must not wait for its joiner.';
      break;
    default: {
      const holders = [...r.holders.keys()].map((h) => h.name);
      why = holders.length
        ? `for ${r.name}, held by ${holders.join(', ')}, which will never release it`
        : `for ${r.name}, and no task is left to release it`;
      fix = 'Release on every path (a `using` declaration), and do not wait while holding.';
    }
  }
  for (const t of tasks) t.explained = true;
  const sites = tasks.map((t) =>
    ctx.site(t.proc, t.waitSite, 'waits', `${t.name} waits on ${r.name}`),
  );
  for (const [h, hold] of r.holders) {
    sites.push(ctx.site(h.proc, hold.site, 'acquired', `${h.name} acquired ${r.name}`));
  }
  ctx.emit({
    kind: 'blocked-forever',
    severity: 'error',
    title: `Blocked forever: ${tasks.length} ${tasks.length > 1 ? 'tasks wait' : 'task waits'} on ${r.name}`,
    id: `blocked-forever:${r.name}:${tasks
      .map((t) => t.name)
      .sort()
      .join(',')}`,
    message: `Blocked forever: ${who} ${verb} ${why}. The program went idle with ${tasks.length > 1 ? 'them' : 'it'} still waiting.`,
    tasks,
    resources: [r],
    sites,
    fix,
    at,
  });
}
