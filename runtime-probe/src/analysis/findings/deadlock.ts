/**
 * Deadlock: a cycle of waits, found by the engine in the wait-for graph.
 */
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
        ? `${from.name} joins ${to.name}`
        : queued
          ? `${from.name} waits for ${r.name} behind ${to.name}, who waits to ${to.waitDir === 2 ? 'write' : 'read'} first`
          : r.role === Role.Lock || r.role === Role.Permits
            ? `${from.name} waits for ${r.name}, held by ${to.name}`
            : `${from.name} waits on ${r.name}, which only ${to.name} would signal`;
    parts.push(how);
    const waitSite = ctx.site(
      from.proc,
      from.waitSite,
      'waits',
      `${from.name} waits for ${r.name}`,
    );
    const held = ctx.site(
      to.proc,
      holdSite,
      queued ? 'waits' : 'acquired',
      queued ? `${to.name} waits for ${r.name}` : `${to.name} acquired ${r.name}`,
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
    title: `Deadlock: ${cycle.length} tasks wait for each other in a cycle`,
    message: `Deadlock: ${parts.join('; ')}.`,
    tasks: cycle,
    resources,
    sites,
    fix:
      resources.some((r) => r.kind === 'rwlock') && new Set(resources).size === 1
        ? `Do not take ${resources[0]!.name} again while holding it: a writer-preferring lock makes ` +
          'a second read wait behind a waiting writer. Take the lock once and pass down what you ' +
          "read (or create it with `policy: 'fair'` knowingly)."
        : resources.every((r) => r.role === Role.Lock)
          ? `Take the locks in one global order (for example always ${sorted.map((r) => r.name).join(' before ')}), ` +
            'or acquire with a timeout and back off.'
          : 'Make sure the task that would wake the others is not itself waiting for them: ' +
            'release locks before waiting on a channel or condition, or close the channel.',
    at,
    cycle: edges,
  });
}
