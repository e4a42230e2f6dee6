/**
 * Lock-order inversion: locks taken in opposite orders by different tasks (the cycle comes from
 * the lock-order graph, order.ts), a deadlock waiting for the right timing.
 */
import type { FindingContext } from './context.js';
import type { OrderEdgeState } from '../order.js';
import type { SiteRef } from '../types.js';
import { names, unique, type ResourceState, type TaskState } from '../model.js';

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
      ctx.site(proc, o.fromSite, 'takes-first', `${o.task.name} takes ${o.from.name} first`),
    );
    sites.push(ctx.site(proc, o.toSite, 'takes-then', `${o.task.name} then takes ${o.to.name}`));
    steps.push(`${o.task.name} took ${o.from.name} then ${o.to.name}`);
  }
  const id = `lock-order-inversion:${names(resources)}`;
  if (ctx.reported(id)) return;
  for (const e of cycle) ctx.inversionEdges.add(e);
  const order = [...resources].sort((a, b) => (a.name < b.name ? -1 : 1));
  ctx.emit({
    kind: 'lock-order-inversion',
    severity: 'warning',
    id,
    title: `Lock-order inversion: ${resources.map((r) => r.name).join(' and ')} are taken in opposite orders`,
    message:
      `Lock-order inversion: ${steps.join('; ')}. If these run at the same time they can ` +
      `deadlock, even though this run did not.`,
    tasks,
    resources,
    sites,
    fix:
      `Take these locks in one global order everywhere (for example ${order.map((r) => r.name).join(' before ')}), ` +
      'or take them together under one gate lock.',
    at,
  });
}
