/**
 * Deadlock: a cycle of waits, found by the engine in the wait-for graph.
 */
import { deadlockWords, siteWords } from '../wording.js';
import type { FindingContext } from './context.js';
import type { SiteRef, CycleEdge } from '../types.js';
import { Role, lastSite, names, type ResourceState, type TaskState } from '../model.js';

export function reportDeadlock(ctx: FindingContext, found: TaskState[], at: number): void {
  // Start from the task with the first name, so that every run tells the cycle the same way.
  let first = 0;
  for (let i = 1; i < found.length; i++) if (found[i]!.name < found[first]!.name) first = i;
  const cycle = [...found.slice(first), ...found.slice(0, first)];
  const edges: CycleEdge[] = [];
  const sites: SiteRef[] = [];
  const resources: ResourceState[] = [];
  const parts: string[] = [];
  for (let i = 0; i < cycle.length; i++) {
    const from = cycle[i]!;
    const to = cycle[(i + 1) % cycle.length]!;
    const r = from.waitRes!;
    resources.push(r);
    // A read-write lock's waiter may wait for a task queued ahead of it rather than a holder.
    const queued = r.kind === 'rwlock' && !r.holders.has(to) && to.waitRes === r;
    const holdSite = queued
      ? to.waitSite
      : r.role === Role.Join
        ? 0
        : (r.holders.get(to)?.site ?? lastSite(r, to));
    const how =
      r.role === Role.Join
        ? deadlockWords.joins(from.name, to.name)
        : queued
          ? deadlockWords.queuedBehind(from.name, r.name, to.name, to.waitDir === 2)
          : r.role === Role.Lock || r.role === Role.Permits
            ? deadlockWords.heldBy(from.name, r.name, to.name)
            : deadlockWords.signalledBy(from.name, r.name, to.name);
    parts.push(how);
    const waitSite = ctx.site(
      from.proc,
      from.waitSite,
      'waits',
      siteWords.waitsFor(from.name, r.name),
    );
    const held = ctx.site(
      to.proc,
      holdSite,
      queued ? 'waits' : 'acquired',
      queued ? siteWords.waitsFor(to.name, r.name) : siteWords.acquired(to.name, r.name),
    );
    edges.push({ from: from.key, to: to.key, resource: r.key, waitSite, holdSite: held });
    sites.push(waitSite, held);
    ctx.cycleEdges.add(`${from.key}>${r.key}`);
    ctx.cycleEdges.add(`${r.key}>${to.key}`);
    from.explained = true;
  }
  const sorted = [...resources].sort((a, b) => (a.name < b.name ? -1 : 1));
  ctx.emit({
    kind: 'deadlock',
    severity: 'error',
    id: `deadlock:${names(resources)}`,
    title: deadlockWords.title(cycle.length),
    message: deadlockWords.message(parts),
    tasks: cycle,
    resources,
    sites,
    fix:
      resources.some((r) => r.kind === 'rwlock') && new Set(resources).size === 1
        ? deadlockWords.fix.rwReentry(resources[0]!.name)
        : resources.every((r) => r.role === Role.Lock)
          ? deadlockWords.fix.lockOrder(sorted.map((r) => r.name))
          : deadlockWords.fix.signal,
    at,
    cycle: edges,
  });
}
