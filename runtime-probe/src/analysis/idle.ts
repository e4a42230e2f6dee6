/**
 * The judgement of a process that has nothing left to run (its probe sent `idle`): whatever
 * still waits, waits forever. Cycles are deadlocks, locks held by tasks that will not run again
 * are abandoned, and the tasks at the end of each chain of waits are blocked forever.
 */
import { WAIT_JOIN } from '../protocol.js';
import { Role, type ProcessModel, type ResourceState, type TaskState } from './model.js';
import { stronglyConnected } from './graph.js';
import { isWaiting, successors } from './waitfor.js';
import type { FindingContext } from './findings/context.js';
import { reportAbandoned } from './findings/abandoned-lock.js';
import { reportBlockedForever } from './findings/blocked-forever.js';
import { reportDeadlock } from './findings/deadlock.js';

export function judgeIdle(
  ctx: FindingContext,
  proc: ProcessModel,
  at: number,
  findCycle: (start: TaskState) => TaskState[] | undefined,
): void {
  // A task that another process could wake (through a lock a server keeps) is not judged by
  // this process's idleness: the other process may still run.
  const blocked = [...proc.tasks.values()].filter(
    (t) => t.blocked && !t.ended && !wokenElsewhere(t, proc),
  );
  // One pass finds the strongly connected groups of waits; each group of two or more holds a
  // cycle through any of its tasks. (A search from every blocked task would cost the square of a
  // long chain.)
  for (const group of stronglyConnected(blocked, (t) => successors(t, false), isWaiting)) {
    const root = group.find((t) => !t.explained);
    if (!root) continue;
    const cycle = findCycle(root);
    // Through another process, which may still run, idleness here proves nothing.
    if (cycle && cycle.every((t) => t.proc === proc)) reportDeadlock(ctx, cycle, at);
  }
  // Locks whose holders have nothing left to run are as good as abandoned.
  for (const r of proc.heldNow()) {
    if (r.role !== Role.Lock || r.waiters.size === 0 || r.abandoned) continue;
    for (const [holder, hold] of r.holders) {
      if (holder.blocked) continue;
      reportAbandoned(ctx, r, holder, hold.site, at, 'nothing-to-run');
      break;
    }
  }
  const byResource = new Map<ResourceState, TaskState[]>();
  // A channel's joiners wait for something else than its receivers (values marked done, not
  // sent), and are told so in a finding of their own.
  const joining = new Map<ResourceState, TaskState[]>();
  for (const t of blocked) {
    if (t.explained || !t.waitRes || t.waitRes.abandoned) continue;
    // A task that waits for a blocked task (joins it, or wants a lock it holds) is only a
    // consequence: the finding belongs to the task at the end of the chain.
    if (waitsForBlocked(t)) continue;
    const groups = t.waitRes.kind === 'channel' && t.waitDir === WAIT_JOIN ? joining : byResource;
    let list = groups.get(t.waitRes);
    if (!list) groups.set(t.waitRes, (list = []));
    list.push(t);
  }
  for (const [r, tasks] of byResource) reportBlockedForever(ctx, r, tasks, at);
  for (const [r, tasks] of joining) reportBlockedForever(ctx, r, tasks, at);
}

function wokenElsewhere(t: TaskState, proc: ProcessModel): boolean {
  for (const next of successors(t, false)) if (next.proc !== proc && !next.ended) return true;
  return false;
}

function waitsForBlocked(t: TaskState): boolean {
  for (const next of successors(t, true)) {
    if (next !== t && !next.ended && (next.blocked || next.explained)) return true;
  }
  return false;
}
