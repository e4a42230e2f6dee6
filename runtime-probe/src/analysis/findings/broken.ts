/**
 * Cycles that a timeout or an abort may break: one of their waits may give up, so the cycle is
 * no deadlock for certain when it forms. It is kept until it breaks: when a wait of it gives up
 * while the rest still stands, it was a deadlock for as long as that wait lasted (`timed-out`).
 * One that still stands after the long-hold limit, or when its process ends, is reported as
 * `bounded`: stuck unless a wait gives up. Both are warnings: the program may go on. One still
 * standing when the program goes idle is a deadlock, judged there as every other wait is.
 */
import type { FindingContext } from './context.js';
import { reportDeadlock } from './deadlock.js';
import type { ProcessModel, TaskState } from '../model.js';
import type { PendingCycle } from '../cycles.js';
import { cycleStands } from '../waitfor.js';

/** Cycles kept at most, oldest dropped first. */
const MAX_KEPT = 64;

export class BrokenCycles {
  readonly #kept: { cycle: TaskState[]; at: number }[] = [];

  constructor(
    private readonly ctx: FindingContext,
    /** Cycles found in the current batch, not yet confirmed (cycles.ts). */
    private readonly pending: PendingCycle[],
  ) {}

  /** A cycle that stands now, through a wait that may give up. */
  kept(cycle: TaskState[], at: number): void {
    // The same tasks in the same cycle, found again by a later wait of theirs.
    if (
      this.#kept.some(
        (k) => k.cycle.length === cycle.length && k.cycle.every((t) => cycle.includes(t)),
      )
    )
      return;
    this.#kept.push({ cycle, at });
    if (this.#kept.length > MAX_KEPT) this.#kept.shift();
  }

  /**
   * `t`'s wait is about to end without a grant (a timeout or an abort): a cycle through it that
   * still stands broke now, whether it was kept or found in this same batch (which then still
   * looks for a certain cycle among its tasks, cycles.ts).
   */
  gaveUp(t: TaskState, at: number): void {
    for (let i = this.#kept.length - 1; i >= 0; i--) {
      const { cycle } = this.#kept[i]!;
      if (!cycle.includes(t)) continue;
      this.#kept.splice(i, 1);
      this.#broke(cycle, t, at);
    }
    for (const entry of this.pending) {
      if (entry.broke || !entry.cycle.includes(t)) continue;
      entry.broke = true;
      this.#broke(entry.cycle, t, at);
    }
  }

  #broke(cycle: TaskState[], t: TaskState, at: number): void {
    if (!cycleStands(cycle) || cycle.every((x) => x.explained)) return;
    // Told from the task that gave up.
    const from = cycle.indexOf(t);
    reportDeadlock(this.ctx, [...cycle.slice(from), ...cycle.slice(0, from)], at, 'timed-out');
  }

  /** Reports the kept cycles (of `proc`, if given) that still stand after `limit` µs. */
  overdue(at: number, limit: number, proc?: ProcessModel): void {
    for (let i = this.#kept.length - 1; i >= 0; i--) {
      const { cycle, at: since } = this.#kept[i]!;
      if (proc && cycle[0]!.proc !== proc) continue;
      if (!cycleStands(cycle)) {
        this.#kept.splice(i, 1);
        continue;
      }
      if (at - since < limit) continue;
      this.#kept.splice(i, 1);
      if (cycle.every((t) => t.explained)) continue;
      reportDeadlock(this.ctx, cycle, since, 'bounded');
    }
  }
}
