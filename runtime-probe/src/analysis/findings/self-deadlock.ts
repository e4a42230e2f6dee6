/**
 * Self-deadlock: a task waits for a lock it holds (or, on a read-write lock, for a mode its own
 * hold excludes).
 */
import type { FindingContext } from './context.js';
import { type ResourceState, type TaskState } from '../model.js';

export function reportSelfDeadlock(
  ctx: FindingContext,
  t: TaskState,
  r: ResourceState,
  holdSite: number,
  site: number,
  at: number,
) {
  const own = ctx.site(t.proc, holdSite, 'acquired', `${t.name} acquired ${r.name} here`);
  ctx.emit({
    kind: 'self-deadlock',
    severity: 'error',
    id: `self-deadlock:${t.name}:${r.name}`,
    title: `Self-deadlock: ${t.name} waits for ${r.name}, which it holds`,
    message: `Self-deadlock: ${t.name} waits for ${r.name}, which it already holds.`,
    tasks: [t],
    resources: [r],
    sites: [ctx.site(t.proc, site, 'waits', `${t.name} waits for ${r.name} again`), own],
    fix:
      r.kind === 'rwlock'
        ? 'A read-write lock is not re-entrant in either mode: pass what the inner code needs ' +
          'instead of taking the lock again, or give it a variant for callers that hold the lock.'
        : 'Release the lock before taking it again, or restructure so the inner code receives ' +
          'the guard; use a ReentrantMutex only if re-entry is really intended.',
    at,
  });
  // The wait that follows is this finding: it is not reported again as blocked forever.
  t.explained = true;
}
