/**
 * The cycles of the wait-for graph as the engine meets them: searched when a definite wait
 * begins, and confirmed at the end of the batch that found them, when a wait the batch itself
 * ended (a fail-fast victim's refusal, a timeout) is no longer part of one. A cycle through a
 * wait that may give up (a timeout, an abort signal) is no deadlock for certain: it is kept
 * until it breaks (findings/broken.ts), unless a certain cycle also goes through its tasks.
 */
import type { FindingContext } from './findings/context.js';
import { reportDeadlock } from './findings/deadlock.js';
import type { BrokenCycles } from './findings/broken.js';
import { findCycle } from './graph.js';
import type { TaskState } from './model.js';
import { cycleStands, isWaiting, successors } from './waitfor.js';

export class Cycles {
  #stamp = 0;
  /** Cycles found in the current batch, confirmed at its end. */
  readonly pending: { cycle: TaskState[]; at: number }[] = [];

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

  /** Reports the cycles of this batch that still stand; costs one step per edge. */
  confirm(broken: BrokenCycles): void {
    for (const { cycle, at } of this.pending.splice(0)) {
      // A cycle whose every wait a finding already explains is that finding's consequence (two
      // tasks that upgrade the same read lock also wait for each other).
      if (!cycleStands(cycle) || cycle.every((t) => t.explained)) continue;
      if (!cycle.some((t) => t.waitBounded)) {
        reportDeadlock(this.ctx, cycle, at);
        continue;
      }
      const certain = cycle.map((t) => this.#findCertain(t)).find((c) => c !== undefined);
      if (certain) reportDeadlock(this.ctx, certain, at);
      else broken.kept(cycle, at);
    }
  }
}
