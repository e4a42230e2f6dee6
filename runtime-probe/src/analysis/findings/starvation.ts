/**
 * Starvation: a task waits while the resource is granted to others `starvationGrants` times.
 */
import { siteWords, starvationWords } from '../wording.js';
import type { FindingContext } from './context.js';
import { type ResourceState } from '../model.js';

export function checkStarvation(ctx: FindingContext, r: ResourceState, at: number): void {
  const limit = ctx.options.starvationGrants;
  for (const w of r.waiters) {
    if (r.grants - w.waitGrants < limit) return;
    if (w.starved === r) continue;
    w.starved = r;
    const waitedMs = Math.round((at - w.waitSince) / 1000);
    ctx.emit({
      kind: 'starvation',
      severity: 'warning',
      id: `starvation:${w.name}:${r.name}`,
      title: starvationWords.title(w.name, r.name),
      message: starvationWords.message(w.name, waitedMs, r.name, r.grants - w.waitGrants),
      tasks: [w],
      resources: [r],
      sites: [ctx.site(w.proc, w.waitSite, 'waits', siteWords.waitsFor(w.name, r.name))],
      fix:
        r.kind !== 'rwlock'
          ? starvationWords.fix.fifo
          : w.waitDir === 1
            ? starvationWords.fix.starvedReader
            : starvationWords.fix.starvedWriter,
      at,
    });
  }
}
