/**
 * The controlled scheduler: the calls waiting at their gates and the virtual timers, from which
 * the explorer chooses one at each decision (explore/hooks.ts has the probe's side).
 *
 * Time is virtual: a timer is due at `now + ms` and fires only when chosen, which moves `now` to
 * its due time (never back). A timer is a choice only when no call waits at a gate (every flow
 * is blocked or asleep). With `ordered` timers only the earliest is, as Node would fire it;
 * otherwise any of them, since a sleep usually stands for I/O whose latency varies, and a timer
 * fired before an earlier one is remembered so that a finding can say it needed that.
 */
import { resolved } from '../identity.js';
import type { Flow, ResourceRec } from '../runtime.js';
import type { ExploreHooks } from './hooks.js';
import { shared } from '../runtime.js';

/** Runs are numbered across schedulers, so that no two runs of a process share a number. */
const runs = shared('explore-runs', () => ({ count: 0 }));

/** A call waiting at its gate, or a virtual timer. */
export interface Pending {
  seq: number;
  flow: Flow;
  res: ResourceRec | undefined;
  op: string;
  site: number;
  /** A timer's due time in virtual milliseconds; undefined for a gate. */
  due: number | undefined;
  /** The turn it was made in: one flow's gates of one turn were made in one synchronous run. */
  turn: number;
  ms: number;
  fire: () => void;
}

/** A timer that fired before another one due earlier. */
export interface Reordering {
  fired: Pending;
  overtook: Pending;
}

export class Scheduler implements ExploreHooks {
  site = 0;
  open = false;
  run = 0;
  /** Counts the explorer's turns: each choice starts one. */
  turn = 0;
  /** Virtual milliseconds since the run began. */
  now = 0;
  readonly reorderings: Reordering[] = [];
  #pending: Pending[] = [];
  #seq = 0;

  constructor(readonly ordered: boolean) {}

  park(
    flow: Flow,
    res: ResourceRec | undefined,
    op: string,
    site: number,
    proceed: () => void,
  ): void {
    this.#pending.push({
      seq: this.#seq++,
      flow,
      res,
      op,
      site,
      due: undefined,
      ms: 0,
      turn: this.turn,
      fire: proceed,
    });
  }

  timer(flow: Flow, ms: number, op: 'sleep' | 'timeout', site: number, fire: () => void): number {
    const seq = this.#seq++;
    this.#pending.push({
      seq,
      flow,
      res: undefined,
      op,
      site,
      due: this.now + ms,
      ms,
      turn: this.turn,
      fire,
    });
    return seq;
  }

  cancel(handle: number): void {
    const i = this.#pending.findIndex((p) => p.seq === handle);
    if (i >= 0) this.#pending.splice(i, 1);
  }

  /**
   * The choices now, in the order they were made (which a schedule's indices refer to). Calls at
   * their gates come first, as in Node a flow ready to go on runs before any timer: time moves
   * only when every flow waits or sleeps. Then any timer, or with `ordered` the earliest.
   */
  choices(): Pending[] {
    const gates = this.#pending.filter((p) => p.due === undefined && this.#leads(p));
    if (gates.length > 0 || !this.ordered) return gates.length > 0 ? gates : this.#timers();
    let first: Pending | undefined;
    for (const p of this.#timers()) if (!first || p.due! < first.due!) first = p;
    return first ? [first] : [];
  }

  /** Every parked call and timer, whether it can be chosen now or not, in the order made. */
  all(): readonly Pending[] {
    return this.#pending;
  }

  #timers(): Pending[] {
    return this.#pending.filter((p) => p.due !== undefined);
  }

  /**
   * Whether gate `p` is the first of its flow's parked calls: a flow's calls take effect in the
   * order it made them. (Its calls of one synchronous run, `Promise.all([a.acquire(),
   * b.acquire()])`, which nothing can interleave with in Node, then go on together.)
   */
  #leads(p: Pending): boolean {
    const id = resolved(p.flow).id;
    for (const q of this.#pending) {
      if (q === p) return true;
      if (q.due === undefined && resolved(q.flow).id === id) return false;
    }
    return true;
  }

  settle(flow: Flow): void {
    if (this.#pending.length > 0) this.#goOn(resolved(flow).id, undefined);
  }

  /** Lets `flow`'s parked calls (of `turn` only, if given) go on, in the order it made them. */
  #goOn(flow: number, turn: number | undefined): void {
    const calls = this.#pending.filter(
      (q) =>
        q.due === undefined &&
        (turn === undefined || q.turn === turn) &&
        resolved(q.flow).id === flow,
    );
    if (calls.length === 0) return;
    this.#pending = this.#pending.filter((q) => !calls.includes(q));
    for (const q of calls) q.fire();
  }

  /** Lets the chosen call proceed, or fires the chosen timer. */
  fire(p: Pending): void {
    const i = this.#pending.indexOf(p);
    if (i < 0) return;
    if (p.due === undefined) {
      // The flow's other calls of the same synchronous run go on with it, in their order.
      this.#goOn(resolved(p.flow).id, p.turn);
      return;
    }
    this.#pending.splice(i, 1);
    let overtook: Pending | undefined;
    for (const q of this.#pending) {
      if (q.due !== undefined && q.due < p.due && (!overtook || q.due < overtook.due!)) {
        overtook = q;
      }
    }
    if (overtook) this.reorderings.push({ fired: p, overtook });
    if (p.due > this.now) this.now = p.due;
    p.fire();
  }

  /** Forgets everything of the last run: its calls never proceed (their flows are dropped). */
  reset(): void {
    this.run = ++runs.count;
    this.#pending = [];
    this.#seq = 0;
    this.turn = 0;
    this.now = 0;
    this.reorderings.length = 0;
    this.site = 0;
    this.open = false;
  }
}
