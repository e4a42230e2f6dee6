/**
 * Blocked forever: tasks still waiting when their process has nothing left to run, and nothing
 * that could wake them.
 */
import { blockedForeverWords, siteWords } from '../wording.js';
import type { FindingContext } from './context.js';
import { WAIT_JOIN, WAIT_SEND } from '../../protocol.js';
import { Role, type ResourceState, type TaskState } from '../model.js';
import { likelySignallers, waitsToJoin } from '../waitfor.js';
import type { FindingPattern } from '../types.js';

export function reportBlockedForever(
  ctx: FindingContext,
  r: ResourceState,
  tasks: TaskState[],
  at: number,
): void {
  const dir = tasks[0]!.waitDir;
  const parked = parkedSignallers(r, dir);
  const [why, fix] = reasonFor(r, dir, parked);
  const pattern = patternOf(r, dir);
  for (const t of tasks) t.explained = true;
  const sites = tasks.map((t) =>
    ctx.site(t.proc, t.waitSite, 'waits', siteWords.waitsOn(t.name, r.name)),
  );
  // Where a signaller that would have woken them waits for a task to end: often the line
  // before which the channel should have been closed.
  for (const p of parked) {
    sites.push(ctx.site(p.proc, p.waitSite, 'waits', siteWords.waitsFor(p.name, p.waitRes!.name)));
  }
  for (const [h, hold] of r.holders) {
    sites.push(ctx.site(h.proc, hold.site, 'acquired', siteWords.acquired(h.name, r.name)));
  }
  ctx.emit({
    kind: 'blocked-forever',
    ...(pattern ? { pattern } : {}),
    severity: 'error',
    title: blockedForeverWords.title(tasks.length, r.name, pattern),
    id: `blocked-forever:${r.name}:${tasks
      .map((t) => t.name)
      .sort()
      .join(',')}`,
    message: blockedForeverWords.message(
      tasks.map((t) => t.name),
      why,
    ),
    tasks,
    resources: [r],
    sites,
    fix,
    at,
  });
}

/** The named pattern of waiters on `r` that nothing can wake, if they fit one. */
function patternOf(r: ResourceState, dir: number): FindingPattern | undefined {
  switch (r.kind) {
    case 'channel':
      return dir === WAIT_SEND || dir === WAIT_JOIN ? undefined : 'no-sender';
    case 'barrier':
    case 'shared-barrier':
      return 'missing-party';
    default:
      return undefined;
  }
}

/**
 * The tasks that signalled `r` before (sent to it, in direction `dir`, for a channel) and now
 * wait for a task to end, which the wait-for graph does not count as its wakers.
 */
function parkedSignallers(r: ResourceState, dir: number): TaskState[] {
  if (r.role !== Role.Signal || r.kind === 'barrier' || r.kind === 'shared-barrier') return [];
  return [...likelySignallers(r, dir).keys()].filter(waitsToJoin);
}

/** Why the waiters on `r` can never be woken, and what to do, by the kind of resource. */
function reasonFor(r: ResourceState, dir: number, parked: readonly TaskState[]): [string, string] {
  const joins = parked.map((p) => ({ name: p.name, joins: p.joinTarget?.name ?? '' }));
  switch (r.kind) {
    case 'channel':
      return dir === WAIT_SEND
        ? blockedForeverWords.channelSend(r.name, joins)
        : dir === WAIT_JOIN
          ? blockedForeverWords.channelJoin(r.name, joins)
          : blockedForeverWords.channelRecv(r.name, joins);
    case 'condition':
    case 'shared-condition':
      return blockedForeverWords.condition(r.name, joins);
    case 'barrier':
    case 'shared-barrier':
      // The parties that arrived in earlier phases and not in this one are the missing ones.
      return blockedForeverWords.barrier(
        r.name,
        [...r.signallers.keys()].filter((s) => !r.waiters.has(s)),
      );
    case 'event':
      return blockedForeverWords.event(r.name, joins);
    case 'waitgroup':
      return blockedForeverWords.waitGroup(r.name);
    case 'task':
      return blockedForeverWords.join(r.name);
    default:
      return blockedForeverWords.lock(
        r.name,
        [...r.holders.keys()].map((h) => h.name),
      );
  }
}
