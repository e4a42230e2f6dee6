/**
 * Self-deadlock: a task waits for a lock it holds (or, on a read-write lock, for a mode its own
 * hold excludes).
 */
import { selfDeadlockWords, siteWords } from '../wording.js';
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
  const own = ctx.site(t.proc, holdSite, 'acquired', siteWords.acquiredHere(t.name, r.name));
  ctx.emit({
    kind: 'self-deadlock',
    severity: 'error',
    id: `self-deadlock:${t.name}:${r.name}`,
    title: selfDeadlockWords.title(t.name, r.name),
    message: selfDeadlockWords.message(t.name, r.name),
    tasks: [t],
    resources: [r],
    sites: [ctx.site(t.proc, site, 'waits', siteWords.waitsAgain(t.name, r.name)), own],
    fix: r.kind === 'rwlock' ? selfDeadlockWords.fix.rwlock : selfDeadlockWords.fix.lock,
    at,
  });
  // The wait that follows is this finding: it is not reported again as blocked forever.
  t.explained = true;
}
