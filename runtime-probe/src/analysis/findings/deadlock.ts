/**
 * Deadlock: a cycle of waits, found by the engine in the wait-for graph.
 */
import { deadlockWords, leftHeldWords, selfDeadlockWords, siteWords } from '../wording.js';
import { leftHeldBy } from './left-held.js';
import type { FindingContext } from './context.js';
import type { SiteRef, CycleEdge } from '../types.js';
import { Role, lastSite, names, type ResourceState, type TaskState } from '../model.js';
import { joinsChannel, wokenByReceivers } from '../waitfor.js';

/**
 * How a cycle ended: it `stands` (a deadlock); fail-fast refused the wait that closed it
 * (`averted`, its first task the victim); or a wait of it gave up (`timed-out`, its first task
 * the one whose timeout or abort broke it); or it stands, through a wait that may still give
 * up (`bounded`). The last three are warnings: the program went on, or may.
 */
export type CycleEnd = 'stands' | 'averted' | 'timed-out' | 'bounded';

/** Reports the cycle `found`, which ended as `end` says. */
export function reportDeadlock(
  ctx: FindingContext,
  found: TaskState[],
  at: number,
  end: CycleEnd = 'stands',
): void {
  // Anything but a standing deadlock is a warning: the program went on, or may.
  const over = end !== 'stands';
  // Start from the task with the first name, so that every run tells the cycle the same way.
  let first = 0;
  for (let i = 1; i < found.length; i++) if (found[i]!.name < found[first]!.name) first = i;
  const cycle = [...found.slice(first), ...found.slice(0, first)];
  const edges: CycleEdge[] = [];
  const sites: SiteRef[] = [];
  const resources: ResourceState[] = [];
  const parts: string[] = [];
  let queuedEdge = false;
  const oneLock = new Set(cycle.map((t) => t.waitRes)).size === 1;
  // A lock its holder's function left held when it returned is the bug the cycle follows from.
  let leftHeld: { fn: string; res: string } | undefined;
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
    const hold = queued ? undefined : r.holders.get(to);
    // Only a cycle on one lock is the leak's own bug; through several locks, the order is.
    const leftBy =
      hold && oneLock && r.role === Role.Lock ? leftHeldBy(to.proc, hold, to.waitSite) : undefined;
    if (leftBy) leftHeld ??= { fn: leftBy, res: r.name };
    const how = leftBy
      ? leftHeldWords.heldBy(from.name, r.name, to.name, leftBy)
      : r.role === Role.Join
        ? deadlockWords.joins(from.name, to.name)
        : queued
          ? deadlockWords.queuedBehind(from.name, r.name, to.name, to.waitDir === 2)
          : r.role === Role.Lock || r.role === Role.Permits
            ? deadlockWords.heldBy(from.name, r.name, to.name)
            : joinsChannel(from)
              ? deadlockWords.joinsChannel(from.name, r.name, to.name)
              : deadlockWords.signalledBy(from.name, r.name, to.name);
    queuedEdge ||= queued;
    parts.push(how);
    const waitSite = ctx.site(
      from.proc,
      from.waitSite,
      'waits',
      siteWords.waitsFor(from.name, r.name),
    );
    const signal = r.role === Role.Signal;
    const held = ctx.site(
      to.proc,
      holdSite,
      queued ? 'waits' : leftBy ? 'left-held' : signal ? 'signals' : 'acquired',
      queued
        ? siteWords.waitsFor(to.name, r.name)
        : leftBy
          ? leftHeldWords.site(to.name, r.name, leftBy)
          : signal
            ? siteWords.signalled(to.name, r.name, r.kind, wokenByReceivers(from.waitDir))
            : siteWords.acquired(to.name, r.name),
    );
    edges.push({ from: from.key, to: to.key, resource: r.key, waitSite, holdSite: held });
    sites.push(waitSite, held);
    // A cycle that no longer stands (averted, timed out) explains nothing, and is no edge of
    // the graph; a bounded one still stands.
    if (end === 'averted' || end === 'timed-out') continue;
    ctx.cycleEdges.add(`${from.key}>${r.key}`);
    ctx.cycleEdges.add(`${r.key}>${to.key}`);
    from.explained = true;
  }
  const sorted = [...resources].sort((a, b) => (a.name < b.name ? -1 : 1));
  // A read queued behind a waiting writer closes the cycle: read-write-read.
  const rwReentry = queuedEdge && new Set(resources).size === 1;
  const fix = leftHeld
    ? leftHeldWords.fix(leftHeld.res, leftHeld.fn)
    : rwReentry
      ? deadlockWords.fix.rwReentry(resources[0]!.name)
      : cycle.length === 1
        ? // A task that waits for itself (a refused re-acquisition).
          selfDeadlockWords.of(undefined, sorted[0]!.kind === 'rwlock').fix(sorted[0]!.name)
        : oneLock && sorted[0]!.kind === 'rwlock'
          ? // Holders of one read-write lock that each ask to write it: upgrades.
            selfDeadlockWords.upgrade.fix(sorted[0]!.name)
          : oneLock && sorted[0]!.role === Role.Permits
            ? deadlockWords.fix.permits(sorted[0]!.name)
            : resources.every((r) => r.role === Role.Lock)
              ? deadlockWords.fix.lockOrder(sorted.map((r) => r.name))
              : cycle.some(joinsChannel)
                ? deadlockWords.fix.channelJoin
                : deadlockWords.fix.signal;
  ctx.emit({
    kind: 'deadlock',
    ...(end !== 'stands'
      ? { pattern: end }
      : leftHeld
        ? { pattern: 'left-held' as const }
        : rwReentry
          ? { pattern: 'rw-reentry' as const }
          : {}),
    severity: over ? 'warning' : 'error',
    // Timed out or bounded, the same cycle is one finding, whichever way it was seen first.
    id: `deadlock:${end === 'stands' ? '' : end === 'averted' ? 'averted:' : 'may-give-up:'}${names(resources)}`,
    title:
      end === 'averted'
        ? deadlockWords.avertedTitle(found[0]!.name)
        : end === 'timed-out'
          ? deadlockWords.timedOutTitle(found[0]!.name)
          : end === 'bounded'
            ? deadlockWords.boundedTitle(cycle.length)
            : deadlockWords.title(cycle.length),
    message:
      end === 'averted'
        ? deadlockWords.averted(parts)
        : end === 'timed-out'
          ? deadlockWords.timedOut(parts)
          : end === 'bounded'
            ? deadlockWords.bounded(parts)
            : deadlockWords.message(parts),
    tasks: cycle,
    resources,
    sites,
    fix:
      end === 'averted'
        ? deadlockWords.fix.averted(found[0]!.name, fix)
        : end === 'timed-out'
          ? deadlockWords.fix.timedOut(found[0]!.name, fix)
          : end === 'bounded'
            ? deadlockWords.fix.bounded(fix)
            : fix,
    at,
    cycle: edges,
    ...(outOfStep(cycle) ? { lost: true } : {}),
  });
}

/**
 * Whether the cycle may be two processes' streams out of step rather than a deadlock. Each
 * process reports on a connection of its own, and the analysis reads them as they come: a wait
 * is known as its process's stream last left it. Across processes (a lock a server keeps), a
 * waiter whose lock the other process took only after the wait began may have been granted it
 * meanwhile, in a batch still on its way; only a holder that held the lock the whole time the
 * wait stood keeps the waiter waiting for certain. (Event times are comparable across the
 * processes of one host.)
 */
function outOfStep(cycle: readonly TaskState[]): boolean {
  return cycle.some((from, i) => {
    const to = cycle[(i + 1) % cycle.length]!;
    if (from.proc === to.proc) return false;
    const hold = from.waitRes?.holders.get(to);
    return hold === undefined || hold.since > from.waitSince;
  });
}
