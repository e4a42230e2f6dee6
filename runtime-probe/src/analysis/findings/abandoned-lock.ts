/**
 * Abandoned lock: a lock still held by a task that ended, threw, lost its guard or whose thread
 * died, or that has nothing left to run.
 */
import type { FindingContext } from './context.js';
import { type ResourceState, type TaskState } from '../model.js';

export function reportAbandoned(
  ctx: FindingContext,
  r: ResourceState,
  holder: TaskState,
  site: number,
  at: number,
  why: string,
): void {
  if (r.abandoned) return;
  r.abandoned = true;
  const waiters = [...r.waiters];
  ctx.emit({
    kind: 'abandoned-lock',
    severity: 'error',
    id: `abandoned-lock:${r.name}`,
    title: `Abandoned lock: ${r.name} is still held by ${holder.name}, which ended`,
    message:
      `Abandoned lock: ${holder.name} ended without releasing ${r.name} (${why})` +
      (waiters.length
        ? `; ${waiters.map((w) => w.name).join(', ')} ${waiters.length > 1 ? 'wait' : 'waits'} for it.`
        : '.'),
    tasks: [holder, ...waiters],
    resources: [r],
    sites: [
      ctx.site(
        holder.proc,
        site,
        'acquired',
        `${holder.name} acquired ${r.name} here and never released it`,
      ),
      ...waiters.map((w) => ctx.site(w.proc, w.waitSite, 'waits', `${w.name} waits for ${r.name}`)),
    ],
    fix:
      'Hold the guard in a `using` declaration (or release it in `finally`), so that the lock ' +
      'is released however the block ends.',
    at,
  });
}
