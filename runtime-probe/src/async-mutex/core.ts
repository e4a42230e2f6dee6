/**
 * The weighted, prioritised semaphore under async-mutex's Mutex and Semaphore, with async-mutex
 * 0.5's exact rules, reporting every wait through `sync()` like lockscope's own primitives:
 *
 * - The queue is ordered by priority, higher first, FIFO within a priority. A new acquisition is
 *   granted at once only when nobody of its priority or higher waits and its weight fits; a
 *   waiter whose weight does not fit blocks everyone behind it (the head of the queue is served
 *   first, or nobody).
 * - `waitForUnlock` resolves, without taking anything, when its weight would fit and nobody of
 *   its priority or higher waits; it is checked each time the value grows, not at `cancel()`.
 * - A releaser gives back its weight once; calling it again does nothing.
 * - `cancel()` rejects every queued acquisition with the cancel error; holds are kept.
 *
 * A wait that `withTimeout` gave up stays queued, as in async-mutex: when granted it becomes a
 * hold of nobody, which the wrapper releases at once, so the lock is never left taken. The probe
 * records the caller's wait as timed out when it gives up, and nothing of that hold of nobody.
 */
import { currentFlow } from '../identity.js';
import type { Flow, ResourceRec } from '../runtime.js';
import { liveHolds, newResource, Op, siteFor, sync } from '../sync.js';
import { gated, mustGate } from '../explore/hooks.js';

export type Releaser = () => void;
export type Ticket = [number, Releaser];

/** A call that waits: an acquisition in the queue, or a `waitForUnlock`. */
interface Pending {
  readonly flow: Flow;
  readonly site: number;
  readonly priority: number;
  /** True from the recorded start of its wait until the recorded end. */
  waiting: boolean;
  /** Its caller stopped waiting (withTimeout): what it gets later is nobody's. */
  detached: boolean;
}

interface Entry extends Pending {
  readonly weight: number;
  readonly resolve: (ticket: Ticket) => void;
  readonly reject: (error: unknown) => void;
}

interface UnlockWaiter extends Pending {
  readonly resolve: () => void;
}

/** What the lock remembers of one grant until its releaser (or an unscoped release) ends it. */
interface Hold {
  readonly flow: Flow;
  readonly weight: number;
  /** Granted after its caller gave up: nobody's, so not recorded. */
  readonly ghost: boolean;
  ended: boolean;
}

/**
 * withTimeout's side of the one synchronous call it makes to a lock. While `calls.slot` is set
 * the call is a wait that may give up, recorded as such, and the lock notes in the slot which
 * wait it started, so that the wrapper can record that wait's timeout. async-mutex's methods make
 * no other synchronous call to their lock, so the slot is that call's.
 */
export interface Slot {
  core?: Core;
  pending?: Pending;
}
export const calls: { slot: Slot | undefined } = { slot: undefined };

/** The permits an event reports (the protocol's `n`), from a weight that may be any number. */
function permits(weight: number): number {
  return Number.isSafeInteger(weight) && weight > 0 ? weight : 1;
}

/**
 * Where an item of `priority` goes in a list ordered by priority: after the last one of the same
 * or a higher priority. Written with async-mutex's comparison, so that a priority that compares
 * with nothing (NaN) lands where it lands there.
 */
function placeFor(list: readonly Pending[], priority: number): number {
  let i = list.length - 1;
  while (i >= 0 && !(priority <= list[i]!.priority)) i--;
  return i + 1;
}

export class Core {
  readonly resource: ResourceRec;
  readonly #cancelError: Error;
  /** Whether this is a Mutex's: its events carry no permits, and `release()` ends a hold. */
  readonly #exclusive: boolean;
  #value: number;
  #queue: Entry[] = [];
  /** The `waitForUnlock` calls waiting, by weight, each list ordered like the queue. */
  readonly #unlockWaiters = new Map<number, UnlockWaiter[]>();
  /** Grants not yet released, oldest first. */
  readonly #holds = new Set<Hold>();

  constructor(value: number, cancelError: Error, kind: 'mutex' | 'semaphore') {
    this.#value = value;
    this.#cancelError = cancelError;
    this.#exclusive = kind === 'mutex';
    const capacity =
      kind === 'semaphore' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
    this.resource = newResource(kind, undefined, capacity);
  }

  get value(): number {
    return this.#value;
  }

  isLocked(): boolean {
    return this.#value <= 0;
  }

  /** Takes `weight` once it fits and its turn has come; resolves to the value before and a releaser. */
  acquire(weight: number, priority: number): Promise<Ticket> {
    const slot = calls.slot;
    // Under `lockscope explore` a wait that cannot give up first waits at its gate, so that the
    // scheduler orders it. One behind withTimeout does not: its timer is the program's, which
    // would fire while the gate is shut and fail a tryAcquire of a free lock.
    if (slot === undefined && mustGate()) {
      return gated(this.resource, 'acquire', () => this.#acquire(weight, priority, undefined));
    }
    return this.#acquire(weight, priority, slot);
  }

  #acquire(weight: number, priority: number, slot: Slot | undefined): Promise<Ticket> {
    const flow = currentFlow();
    return new Promise<Ticket>((resolve, reject) => {
      const at = placeFor(this.#queue, priority);
      const now = at === 0 && weight <= this.#value;
      const site = siteFor(this.resource, flow, !now);
      const entry: Entry = {
        flow,
        site,
        priority,
        weight,
        resolve,
        reject,
        waiting: false,
        detached: false,
      };
      if (slot) {
        slot.core = this;
        slot.pending = entry;
      }
      if (now) {
        this.#dispatch(entry);
        return;
      }
      this.#queue.splice(at, 0, entry);
      entry.waiting = true;
      flow.blocked = true;
      const op = slot ? Op.requestBounded : Op.request;
      sync(op, flow, this.resource, site, this.#n(weight));
    });
  }

  /** Resolves once `weight` could be taken at `priority`, without taking it. */
  waitForUnlock(weight: number, priority: number): Promise<void> {
    const slot = calls.slot;
    if (slot === undefined && mustGate()) {
      return gated(this.resource, 'wait', () => this.#waitForUnlock(weight, priority, undefined));
    }
    return this.#waitForUnlock(weight, priority, slot);
  }

  #waitForUnlock(weight: number, priority: number, slot: Slot | undefined): Promise<void> {
    const queue = this.#queue;
    if ((queue.length === 0 || queue[0]!.priority < priority) && weight <= this.#value) {
      return Promise.resolve();
    }
    const flow = currentFlow();
    const site = siteFor(this.resource, flow, true);
    return new Promise<void>((resolve) => {
      const waiter: UnlockWaiter = {
        flow,
        site,
        priority,
        resolve,
        waiting: true,
        detached: false,
      };
      let list = this.#unlockWaiters.get(weight);
      if (!list) this.#unlockWaiters.set(weight, (list = []));
      list.splice(placeFor(list, priority), 0, waiter);
      if (slot) {
        slot.core = this;
        slot.pending = waiter;
      }
      flow.blocked = true;
      sync(Op.wait, flow, this.resource, site);
    });
  }

  /** Adds `weight` without a releaser (async-mutex's unscoped `release`), by the calling flow. */
  release(weight: number): void {
    sync(Op.released, currentFlow(), this.resource, 0, this.#n(weight));
    this.#give(weight);
  }

  /**
   * A Mutex's unscoped `release()`: ends the oldest hold, so that the analysis sees its holder let
   * go. Its releaser, if called later, still gives back its weight, as in async-mutex.
   */
  releaseOldest(): void {
    for (const hold of this.#holds) {
      this.#end(hold);
      break;
    }
    this.#give(1);
  }

  setValue(value: number): void {
    this.#value = value;
    this.#dispatchQueue();
  }

  cancel(): void {
    const queue = this.#queue;
    this.#queue = [];
    for (const entry of queue) {
      this.#stopWaiting(entry, Op.cancel, 0);
      entry.reject(this.#cancelError);
    }
  }

  /** withTimeout gave up on `pending` after `ms`: its wait ends, the call stays queued. */
  giveUp(pending: Pending, ms: number): void {
    if (pending.detached) return;
    pending.detached = true;
    this.#stopWaiting(pending, Op.timeout, Number.isFinite(ms) && ms >= 0 ? ms : 0);
  }

  #stopWaiting(pending: Pending, op: typeof Op.cancel | typeof Op.timeout, n: number): void {
    if (!pending.waiting) return;
    pending.waiting = false;
    pending.flow.blocked = false;
    sync(op, pending.flow, this.resource, pending.site, n);
  }

  #n(weight: number): number {
    return this.#exclusive ? 0 : permits(weight);
  }

  #give(weight: number): void {
    this.#value += weight;
    this.#dispatchQueue();
  }

  #dispatchQueue(): void {
    this.#drainUnlockWaiters();
    const queue = this.#queue;
    while (queue.length > 0 && queue[0]!.weight <= this.#value) {
      this.#dispatch(queue.shift()!);
      this.#drainUnlockWaiters();
    }
  }

  #dispatch(entry: Entry): void {
    const previous = this.#value;
    this.#value -= entry.weight;
    const hold: Hold = {
      flow: entry.flow,
      weight: entry.weight,
      ghost: entry.detached,
      ended: false,
    };
    this.#holds.add(hold);
    if (!hold.ghost) {
      if (entry.waiting) entry.flow.blocked = false;
      liveHolds.count++;
      sync(Op.acquired, entry.flow, this.resource, entry.site, this.#n(entry.weight));
    }
    entry.waiting = false;
    let called = false;
    entry.resolve([
      previous,
      () => {
        if (called) return;
        called = true;
        this.#end(hold);
        this.#give(hold.weight);
      },
    ]);
  }

  #end(hold: Hold): void {
    if (hold.ended) return;
    hold.ended = true;
    this.#holds.delete(hold);
    if (hold.ghost) return;
    liveHolds.count--;
    sync(Op.released, hold.flow, this.resource, 0, this.#n(hold.weight));
  }

  /**
   * Resolves the `waitForUnlock` calls that the value now lets through: with an empty queue every
   * weight that fits; otherwise only those of a higher priority than the head of the queue. The
   * weights that fit are the value, the value less one, and so on down to above zero (as
   * async-mutex counts them), largest first.
   */
  #drainUnlockWaiters(): void {
    const waiters = this.#unlockWaiters;
    if (waiters.size === 0) return;
    const value = this.#value;
    const weights = [...waiters.keys()]
      .filter((w) => w > 0 && w <= value && Number.isInteger(value - w))
      .sort((a, b) => b - a);
    const head = this.#queue[0];
    for (const weight of weights) {
      const list = waiters.get(weight)!;
      let woken: UnlockWaiter[];
      if (head === undefined) {
        woken = list;
        waiters.delete(weight);
      } else {
        const i = list.findIndex((w) => w.priority <= head.priority);
        woken = i === -1 ? list.splice(0) : list.splice(0, i);
        if (list.length === 0) waiters.delete(weight);
      }
      for (const waiter of woken) this.#wake(waiter);
    }
  }

  #wake(waiter: UnlockWaiter): void {
    if (waiter.waiting && !waiter.detached) {
      waiter.flow.blocked = false;
      sync(Op.wake, waiter.flow, this.resource, waiter.site);
    }
    waiter.waiting = false;
    waiter.resolve();
  }
}
