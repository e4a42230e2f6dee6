/**
 * Blocked forever: tasks still waiting when their process has nothing left to run, and nothing
 * that could wake them.
 */
import { blockedForeverWords, siteWords } from '../wording.js';
import type { FindingContext } from './context.js';
import { WAIT_SEND } from '../../protocol.js';
import { type ResourceState, type TaskState } from '../model.js';
import type { FindingPattern } from '../types.js';

export function reportBlockedForever(
  ctx: FindingContext,
  r: ResourceState,
  tasks: TaskState[],
  at: number,
): void {
  const [why, fix] = reasonFor(r, tasks[0]!.waitDir);
  const pattern = patternOf(r, tasks[0]!.waitDir);
  for (const t of tasks) t.explained = true;
  const sites = tasks.map((t) =>
    ctx.site(t.proc, t.waitSite, 'waits', siteWords.waitsOn(t.name, r.name)),
  );
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
      return dir === WAIT_SEND ? undefined : 'no-sender';
    case 'barrier':
    case 'shared-barrier':
      return 'missing-party';
    default:
      return undefined;
  }
}

/** Why the waiters on `r` can never be woken, and what to do, by the kind of resource. */
function reasonFor(r: ResourceState, dir: number): [string, string] {
  switch (r.kind) {
    case 'channel':
      return dir === WAIT_SEND
        ? blockedForeverWords.channelSend(r.name)
        : blockedForeverWords.channelRecv(r.name);
    case 'condition':
    case 'shared-condition':
      return blockedForeverWords.condition(r.name);
    case 'barrier':
    case 'shared-barrier':
      // The parties that arrived in earlier phases and not in this one are the missing ones.
      return blockedForeverWords.barrier(
        r.name,
        [...r.signallers.keys()].filter((s) => !r.waiters.has(s)),
      );
    case 'event':
      return blockedForeverWords.event(r.name);
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
