/**
 * Self-deadlock: a task waits for a lock it holds (or, on a read-write lock, for a mode its own
 * hold excludes). On a read-write lock the modes name the pattern: a write asked under one's own
 * read is an upgrade, a read under one's own write is a read under write.
 */
import { leftHeldWords, selfDeadlockWords, siteWords } from '../wording.js';
import { leftHeldBy } from './left-held.js';
import type { FindingContext } from './context.js';
import { type Hold, type ResourceState, type TaskState } from '../model.js';
import type { FindingPattern } from '../types.js';

/** Read-write lock modes, as the protocol's `n` of a request and a hold. */
const READ = 1;
const WRITE = 2;

export function reportSelfDeadlock(
  ctx: FindingContext,
  t: TaskState,
  r: ResourceState,
  holdSite: number,
  site: number,
  at: number,
  /** For a read-write lock: the mode held and the mode asked for (0 when unknown). */
  modes: { held: number; asked: number } = { held: 0, asked: 0 },
  /** The hold, when known: whether its acquiring function has returned is told from it. */
  hold?: Hold,
  /** The wait may give up (a timeout, an AbortSignal): the program goes on, so a warning. */
  bounded = false,
) {
  const severity = bounded ? 'warning' : 'error';
  const also = bounded ? ` ${selfDeadlockWords.givesUp}` : '';
  const fn = hold ? leftHeldBy(t.proc, hold, site) : undefined;
  if (fn) {
    reportLeftHeld(ctx, t, r, holdSite, site, at, fn, severity, also);
    return;
  }
  const pattern: FindingPattern | undefined =
    r.kind !== 'rwlock'
      ? undefined
      : modes.held === READ && modes.asked === WRITE
        ? 'rw-upgrade'
        : modes.held === WRITE && modes.asked === READ
          ? 'read-under-write'
          : undefined;
  const modeWords = pattern
    ? ([
        siteWords.asksTo(t.name, pattern === 'rw-upgrade' ? 'write' : 'read', r.name),
        siteWords.acquiredFor(t.name, r.name, pattern === 'rw-upgrade' ? 'reading' : 'writing'),
      ] as const)
    : ([siteWords.waitsAgain(t.name, r.name), siteWords.acquiredHere(t.name, r.name)] as const);
  const own = ctx.site(t.proc, holdSite, 'acquired', modeWords[1]);
  const words = selfDeadlockWords.of(pattern, r.kind === 'rwlock');
  // An upgrade is a bug of its line, whichever task runs it (two tasks that upgrade at once also
  // wait for each other: that cycle is this finding too, see Engine's cycle confirmation).
  const id = pattern
    ? `self-deadlock:${pattern}:${r.name}:${ctx.siteKey(t.proc, site)}`
    : `self-deadlock:${t.name}:${r.name}`;
  ctx.emit({
    kind: 'self-deadlock',
    ...(pattern ? { pattern } : {}),
    severity,
    id,
    title: words.title(t.name, r.name),
    message: words.message(t.name, r.name) + also,
    tasks: [t],
    resources: [r],
    sites: [ctx.site(t.proc, site, 'waits', modeWords[0]), own],
    fix: words.fix(r.name),
    at,
  });
  // The wait that follows is this finding: it is not reported again as blocked forever.
  t.explained = true;
}

/** A self-deadlock on a lock that the task's own function left held when it returned. */
function reportLeftHeld(
  ctx: FindingContext,
  t: TaskState,
  r: ResourceState,
  holdSite: number,
  site: number,
  at: number,
  fn: string,
  severity: 'error' | 'warning',
  also: string,
): void {
  ctx.emit({
    kind: 'self-deadlock',
    pattern: 'left-held',
    severity,
    id: `self-deadlock:left-held:${r.name}:${ctx.siteKey(t.proc, holdSite)}`,
    title: leftHeldWords.title(fn, r.name),
    message: leftHeldWords.selfDeadlock(t.name, r.name, fn) + also,
    tasks: [t],
    resources: [r],
    sites: [
      ctx.site(t.proc, holdSite, 'left-held', leftHeldWords.site(t.name, r.name, fn)),
      ctx.site(t.proc, site, 'waits', siteWords.waitsAgain(t.name, r.name)),
    ],
    fix: leftHeldWords.fix(r.name, fn),
    at,
  });
  t.explained = true;
}
