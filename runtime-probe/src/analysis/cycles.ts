/**
 * The cycles of the wait-for graph as the engine meets them: searched when a definite wait
 * begins, and confirmed at the end of the batch that found them, when a wait the batch itself
 * ended (a fail-fast victim's refusal, a grant) is no longer part of one. A cycle through a wait
 * that fail-fast has yet to judge is carried to a later batch, where its judgement is. A cycle
 * through a wait that may give up (a timeout, an abort signal) is no deadlock for certain: it is
 * kept (findings/broken.ts) unless a certain cycle goes through its tasks, which is searched for
 * whether that wait still stands or gave up in this batch. A cycle through several processes is
 * carried until each has told of the time it formed (`inStep`).
 */
import type { FindingContext } from './findings/context.js';
import { reportDeadlock } from './findings/deadlock.js';
import { findCycle } from './graph.js';
import type { TaskState } from './model.js';
import type { Transitions } from './transitions.js';
import { cycleStands, isWaiting, successors } from './waitfor.js';

/** A cycle found in the current batch; `broke` once a wait of it gave up in the batch. */
export interface PendingCycle {
  cycle: TaskState[];
  at: number;
  broke?: boolean;
}

export class Cycles {
  #stamp = 0;
  /** Cycles found in the current batch (or carried to it), confirmed at its end. */
  readonly pending: PendingCycle[] = [];

  constructor(private readonly ctx: FindingContext) {}

  /** A cycle of waits through `start`, as the list of tasks from `start`, or undefined. */
  find(start: TaskState, definite: boolean): TaskState[] | undefined {
    return findCycle(start, (t) => successors(t, definite), isWaiting, ++this.#stamp);
  }

  /** A cycle through `start` of definite waits that cannot give up, or undefined. */
  #findCertain(start: TaskState): TaskState[] | undefined {
    const certain = (t: TaskState): boolean => isWaiting(t) && !t.waitBounded;
    if (!certain(start)) return undefined;
    return findCycle(start, (t) => successors(t, true), certain, ++this.#stamp);
  }

  /**
   * Reports the cycles of this batch that are deadlocks, and keeps those that may break: after
   * the batch's self-deadlocks, whose waits explain their cycles. Called at the end of each batch,
   * and on a heartbeat or idle, for cycles that waited for a process to tell of their time.
   */
  confirm(tx: Pick<Transitions, 'confirmSelfDeadlocks' | 'broken'>): void {
    tx.confirmSelfDeadlocks();
    const broken = tx.broken;
    const carried: PendingCycle[] = [];
    for (const entry of this.pending.splice(0)) {
      const { cycle, at } = entry;
      const stands = cycleStands(cycle);
      if (stands && (cycle.some((t) => t.judging) || !inStep(cycle, at))) {
        carried.push(entry);
        continue;
      }
      // A cycle whose every wait a finding already explains is that finding's consequence (two
      // tasks that upgrade the same read lock also wait for each other).
      const explained = (c: TaskState[]): boolean => c.every((t) => t.explained);
      const mayBreak = entry.broke === true || cycle.some((t) => t.waitBounded);
      if (!mayBreak) {
        if (stands && !explained(cycle)) reportDeadlock(this.ctx, cycle, at);
        continue;
      }
      const certain = cycle.map((t) => this.#findCertain(t)).find((c) => c !== undefined);
      if (certain && !explained(certain)) reportDeadlock(this.ctx, certain, at);
      else if (stands && !entry.broke && !explained(cycle)) broken.kept(cycle, at);
    }
    this.pending.push(...carried);
  }
}

/**
 * Whether every process of the cycle has told of the time it formed. Each process reports on a
 * stream of its own, and a cycle through a lock a server keeps (shared-resources.ts) may join
 * two of them: one process's wait is known as its stream last left it, and a batch of its still
 * on the way may say the lock was granted meanwhile. The next batch or heartbeat of that process
 * (every second at most) settles it. Times are compared as the processes sent them: exact on one
 * host, and across hosts as far as their clocks agree.
 */
function inStep(cycle: readonly TaskState[], at: number): boolean {
  return cycle.every((t) => t.proc.toldUntil >= at);
}
