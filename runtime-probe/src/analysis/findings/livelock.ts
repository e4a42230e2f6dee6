/**
 * Livelock: two tasks each fail their try-locks `livelockRetries` times in a row, each on what
 * the other holds, so neither makes progress.
 */
import { names, type ResourceState, type TaskState } from '../model.js';
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
      ctx.site(t.proc, t.trySite, 'tries', `${t.name} fails to take ${r.name}`),
      ctx.site(t.proc, r.holders.get(other)?.site ?? 0, 'holds', `${other.name} holds ${r.name}`),
      ctx.site(t.proc, other.trySite, 'tries', `${other.name} fails to take ${other.tryRes.name}`),
      ctx.site(
        t.proc,
        other.tryRes.holders.get(t)?.site ?? 0,
        'holds',
        `${t.name} holds ${other.tryRes.name}`,
      ),
    ];
    ctx.emit({
      kind: 'livelock',
      severity: 'warning',
      id: `livelock:${names(resources)}`,
      title: `Livelock: ${t.name} and ${other.name} retry without progress`,
      message:
        `Livelock: ${t.name} and ${other.name} keep retrying ${r.name} and ` +
        `${other.tryRes.name} (${t.tryFails} and ${other.tryFails} failed attempts in a row) ` +
        `without either making progress.`,
      tasks,
      resources,
      sites,
      fix:
        'Back off for a random, growing time before retrying, so that one task wins; or take ' +
        'the locks in one global order and block instead of trying.',
      at,
    });
    return;
  }
}
