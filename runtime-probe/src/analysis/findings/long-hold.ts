/**
 * Long hold: a lock held longer than the limit (`longHoldMs`).
 */
import { longHoldWords, siteWords } from '../wording.js';
import type { FindingContext } from './context.js';
import { type ResourceState, type TaskState } from '../model.js';

export function reportLongHold(
  ctx: FindingContext,
  r: ResourceState,
  holder: TaskState,
  site: number,
  heldUs: number,
  at: number,
): void {
  // A task stuck in a reported deadlock holds its locks forever: that finding says it all.
  if (holder.explained) return;
  // Heartbeats ask again about every long hold: answer from the id before building anything.
  const id = `long-hold:${r.name}:${ctx.siteKey(holder.proc, site)}`;
  if (ctx.reported(id)) return;
  const ms = Math.round(heldUs / 1000);
  ctx.emit({
    kind: 'long-hold',
    severity: 'warning',
    id,
    title: longHoldWords.title(r.name, ms),
    message: longHoldWords.message(holder.name, r.name, ms, ctx.options.longHoldMs),
    tasks: [holder],
    resources: [r],
    sites: [ctx.site(holder.proc, site, 'acquired', siteWords.acquiredHere(holder.name, r.name))],
    fix: longHoldWords.fix,
    at,
  });
}
