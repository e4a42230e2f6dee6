/**
 * Cycles that a timeout or an abort may break: one of their waits was a `request-bounded`, so
 * the cycle is no deadlock for certain when it forms. It is kept until it breaks: when a wait of
 * it gives up while the rest still stands, it was a deadlock for as long as that wait lasted,
 * reported as a warning (`timed-out`). One still standing when the program goes idle is judged
 * there, as every other wait is.
 */
import type { FindingContext } from './context.js';
import { reportDeadlock } from './deadlock.js';
import type { TaskState } from '../model.js';
import { cycleStands } from '../waitfor.js';

/** Cycles kept at most, oldest dropped first. */
const MAX_KEPT = 64;

export class BrokenCycles {
  readonly #kept: { cycle: TaskState[]; at: number }[] = [];

  constructor(private readonly ctx: FindingContext) {}

  /** A cycle that stands now, through a wait that may give up. */
  kept(cycle: TaskState[], at: number): void {
    if (
      this.#kept.some(
        (k) => k.cycle.length === cycle.length && k.cycle.every((t) => cycle.includes(t)),
      )
    )
      return;
    this.#kept.push({ cycle, at });
    if (this.#kept.length > MAX_KEPT) this.#kept.shift();
  }

  /** `t`'s wait is about to end without a grant (a timeout or an abort). */
  gaveUp(t: TaskState, at: number): void {
    for (let i = this.#kept.length - 1; i >= 0; i--) {
      const { cycle } = this.#kept[i]!;
      const from = cycle.indexOf(t);
      if (from < 0) continue;
      this.#kept.splice(i, 1);
      if (!cycleStands(cycle)) continue;
      // Told from the task that gave up.
      reportDeadlock(this.ctx, [...cycle.slice(from), ...cycle.slice(0, from)], at, 'timed-out');
    }
  }
}
