/**
 * Abandoned lock: a lock still held by a task that ended, threw, lost its guard or whose thread
 * died, or that has nothing left to run.
 */
import { abandonedWords, siteWords, type AbandonCause } from '../wording.js';
import type { FindingContext } from './context.js';
import { type ResourceState, type TaskState } from '../model.js';

export function reportAbandoned(
  ctx: FindingContext,
  r: ResourceState,
  holder: TaskState,
  site: number,
  at: number,
  cause: AbandonCause,
  /** The holder's thread was ended from outside: its release may be among its lost events. */
  lost = false,
): void {
  if (r.abandoned) return;
  r.abandoned = true;
  // A holder stuck in a wait that a finding explains (a deadlock whose threads the program then
  // terminated) lost its lock because of that finding: one bug, one finding.
  if (holder.explained && holder.waitRes) return;
  const waiters = [...r.waiters];
  ctx.emit({
    kind: 'abandoned-lock',
    severity: 'error',
    id: `abandoned-lock:${r.name}`,
    title: abandonedWords.title(r.name, holder.name, cause),
    message: abandonedWords.message(
      holder.name,
      r.name,
      cause,
      waiters.map((w) => w.name),
    ),
    tasks: [holder, ...waiters],
    resources: [r],
    sites: [
      ctx.site(holder.proc, site, 'acquired', siteWords.neverReleased(holder.name, r.name)),
      ...waiters.map((w) =>
        ctx.site(w.proc, w.waitSite, 'waits', siteWords.waitsFor(w.name, r.name)),
      ),
    ],
    fix: abandonedWords.fix(cause),
    at,
    ...(lost ? { lost } : {}),
  });
}
