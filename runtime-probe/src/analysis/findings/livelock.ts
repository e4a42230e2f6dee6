/**
 * Livelock: two tasks each fail their try-locks `livelockRetries` times in a row, each on what
 * the other holds, so neither makes progress.
 */
import { names, type ResourceState, type TaskState } from '../model.js';
import { livelockWords, siteWords } from '../wording.js';
import type { FindingContext } from './context.js';

/** Called after `t` failed a try-lock on `r` (its streak already counted). */
export function checkLivelock(
  ctx: FindingContext,
  t: TaskState,
  r: ResourceState,
  at: number,
): void {
  const limit = ctx.options.livelockRetries;
  if (t.tryFails < limit) return;
  // Livelock: the task that holds what this one keeps trying is itself retrying, in vain.
  for (const other of r.holders.keys()) {
    if (other === t || other.tryFails < limit || !other.tryRes) continue;
    const tasks = [t, other];
    const resources = [r, other.tryRes];
    const sites = [
      ctx.site(t.proc, t.trySite, 'tries', siteWords.failsToTake(t.name, r.name)),
      ctx.site(
        t.proc,
        r.holders.get(other)?.site ?? 0,
        'holds',
        siteWords.holds(other.name, r.name),
      ),
      ctx.site(
        t.proc,
        other.trySite,
        'tries',
        siteWords.failsToTake(other.name, other.tryRes.name),
      ),
      ctx.site(
        t.proc,
        other.tryRes.holders.get(t)?.site ?? 0,
        'holds',
        siteWords.holds(t.name, other.tryRes.name),
      ),
    ];
    ctx.emit({
      kind: 'livelock',
      severity: 'warning',
      id: `livelock:${names(resources)}`,
      title: livelockWords.title(t.name, other.name),
      message: livelockWords.message(
        t.name,
        other.name,
        r.name,
        other.tryRes.name,
        t.tryFails,
        other.tryFails,
      ),
      tasks,
      resources,
      sites,
      fix: livelockWords.fix,
      at,
    });
    return;
  }
}
