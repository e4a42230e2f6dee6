/**
 * Starvation: a task waits while the resource is granted to others `starvationGrants` times.
 */
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
      title: `Starvation: ${w.name} waits for ${r.name} while others take it`,
      message:
        `Starvation: ${w.name} has waited ${waitedMs} ms for ${r.name} while it was granted ` +
        `${r.grants - w.waitGrants} times to others.`,
      tasks: [w],
      resources: [r],
      sites: [ctx.site(w.proc, w.waitSite, 'waits', `${w.name} waits for ${r.name}`)],
      fix:
        r.kind !== 'rwlock'
          ? 'Use a fair (FIFO) primitive, or bound how long each holder keeps it.'
          : w.waitDir === 1
            ? "Create the lock with `policy: 'fair'`, so that readers and writers are served in " +
              'the order they arrive, or write less often.'
            : "Keep the default `policy: 'writer-preferring'` (or use 'fair'), so that new " +
              'readers queue behind a waiting writer.',
      at,
    });
  }
}
