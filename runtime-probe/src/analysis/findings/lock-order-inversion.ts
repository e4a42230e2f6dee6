/**
 * Lock-order inversion: locks taken in opposite orders by different tasks (the cycle comes from
 * the lock-order graph, order.ts), a deadlock waiting for the right timing.
 */
import { inversionWords, siteWords } from '../wording.js';
import type { FindingContext } from './context.js';
import type { OrderEdgeState, OrderGraph } from '../order.js';
import type { SiteRef } from '../types.js';
import { names, Role, unique, type ResourceState, type TaskState } from '../model.js';

export function reportInversion(
  ctx: FindingContext,
  cycle: OrderEdgeState<ResourceState, TaskState>[],
  at: number,
): void {
  const resources = unique(cycle.flatMap((e) => [e.first.from, e.first.to]));
  const tasks = unique(
    cycle.flatMap((e) => (e.other ? [e.first.task, e.other.task] : [e.first.task])),
  );
  const sites: SiteRef[] = [];
  const steps: string[] = [];
  for (const e of cycle) {
    const o = e.first;
    const proc = o.task.proc;
    sites.push(
      ctx.site(proc, o.fromSite, 'takes-first', siteWords.takesFirst(o.task.name, o.from.name)),
    );
    sites.push(ctx.site(proc, o.toSite, 'takes-then', siteWords.takesThen(o.task.name, o.to.name)));
    steps.push(inversionWords.step(o.task.name, o.from.name, o.to.name));
  }
  const id = `lock-order-inversion:${names(resources)}`;
  if (ctx.reported(id)) return;
  for (const e of cycle) ctx.inversionEdges.add(e);
  const order = [...resources].sort((a, b) => (a.name < b.name ? -1 : 1));
  ctx.emit({
    kind: 'lock-order-inversion',
    severity: 'warning',
    id,
    title: inversionWords.title(resources.map((r) => r.name)),
    message: inversionWords.message(steps),
    tasks,
    resources,
    sites,
    fix: inversionWords.fix(order.map((r) => r.name)),
    at,
  });
}

/** The lock-order node of one lock, for a pair of locks of one class. */
export function instanceNode(r: ResourceState): string {
  return `#${r.key}`;
}

/**
 * `t` takes `r` while holding other locks: each held lock before `r` is an edge of the lock-order
 * graph (by class, or by instance for two locks of one class), and an edge that closes a cycle
 * of orders is an inversion.
 */
export function observeOrder(
  ctx: FindingContext,
  order: OrderGraph<ResourceState, TaskState>,
  t: TaskState,
  r: ResourceState,
  site: number,
  at: number,
): void {
  const held: ResourceState[] = [];
  for (const h of t.holds.keys()) if (h.role === Role.Lock && h !== r) held.push(h);
  for (const h of held) {
    const same = h.cls === r.cls;
    const fromKey = same ? instanceNode(h) : `class:${h.cls}`;
    const toKey = same ? instanceNode(r) : `class:${r.cls}`;
    const cycle = order.observe(fromKey, toKey, {
      from: h,
      to: r,
      task: t,
      fromSite: t.holds.get(h)!.site,
      toSite: site,
      gates: held.filter((g) => g !== h),
    });
    if (cycle) reportInversion(ctx, cycle, at);
  }
}
