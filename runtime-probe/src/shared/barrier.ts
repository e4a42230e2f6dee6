import { BrokenBarrierError } from '../errors.js';
import { currentFlow } from '../identity.js';
import { flush } from '../recorder.js';
import { rt, type Flow, type ResourceRec } from '../runtime.js';
import { Op, siteForBlocking, sync, type ResourceOptions } from '../sync.js';
import { checkOptions } from '../waiting.js';
import {
  isHandle,
  keepAlive,
  SharedPrimitive,
  sharedResource,
  type SharedHandle,
} from './handle.js';

// Layout, in 32-bit words. STATE holds the generation (high 16 bits, wrapping) and the arrivals
// of that generation (low 16 bits) together, so that one compare-and-swap both counts an arrival
// and, for the last party, opens the next generation: no arrival can be counted in the wrong one.
const STATE = 0;
const BROKEN = 1;
const PARTIES = 2;
const WORDS = 4;
const COUNT_BITS = 16;
const COUNT_MASK = (1 << COUNT_BITS) - 1;
/** How long a waiter sleeps at most before it looks whether the barrier broke. */
const BREAK_POLL_MS = 50;

/** Options of a SharedBarrier. */
export interface SharedBarrierOptions extends ResourceOptions {
  /** Runs in the thread of the last party to arrive, before the others are released. */
  action?: () => void;
}

/**
 * A cyclic barrier for `parties` threads (or tasks), in shared memory. `waitSync()` blocks a
 * worker with Atomics.wait; `wait()` waits asynchronously and suits the main thread. Both resolve
 * to the arrival index within the generation (0 for the first). A party that times out breaks the
 * barrier for every thread: waiters and later callers get BrokenBarrierError until `reset()`.
 */
export class SharedBarrier extends SharedPrimitive {
  /** @internal */
  readonly resource: ResourceRec;
  readonly #action: (() => void) | undefined;

  /**
   * A barrier in shared memory for `parties` threads or tasks; open it elsewhere with
   * `SharedBarrier.from(handle)`.
   */
  constructor(parties: number, options?: SharedBarrierOptions, handle?: SharedHandle) {
    if (!handle && !(Number.isInteger(parties) && parties >= 1 && parties <= COUNT_MASK)) {
      throw new TypeError(`SharedBarrier: parties must be an integer from 1 to ${COUNT_MASK}`);
    }
    super('shared-barrier', WORDS, handle);
    if (!handle) this.words[PARTIES] = parties;
    this.resource = sharedResource('shared-barrier', options, handle, this.parties);
    this.#action = options?.action;
  }

  /** Makes a working barrier from a handle received from another thread. */
  static from(handle: unknown, options?: { action?: () => void }): SharedBarrier {
    if (!isHandle(handle, 'shared-barrier')) {
      throw new TypeError('SharedBarrier.from(): expected the handle of a SharedBarrier');
    }
    return new SharedBarrier(0, options, handle);
  }

  /** How many parties each round waits for. */
  get parties(): number {
    return Atomics.load(this.words, PARTIES);
  }

  /** The current generation, wrapping at 2^16. */
  get generation(): number {
    return Atomics.load(this.words, STATE) >>> COUNT_BITS;
  }

  /** True after `abort()` or a timed-out waiter, until `reset()`. */
  get broken(): boolean {
    return Atomics.load(this.words, BROKEN) !== 0;
  }

  /** Breaks the barrier for every thread: waiters and later callers reject until reset(). */
  abort(): void {
    this.#break(currentFlow());
  }

  /** Mends a broken barrier and starts a fresh generation. Waiters of a broken one have failed. */
  reset(): void {
    const words = this.words;
    const gen = (Atomics.load(words, STATE) >>> COUNT_BITS) + 1;
    Atomics.store(words, STATE, (gen & COUNT_MASK) << COUNT_BITS);
    Atomics.store(words, BROKEN, 0);
    Atomics.notify(words, STATE);
  }

  /**
   * Counts an arrival. Returns the arrival index and, for a party that must wait, the state word
   * to wait on; the last party runs the action and opens the next generation.
   */
  #arrive(flow: Flow, site: number): { index: number; gen: number; last: boolean } {
    const words = this.words;
    const parties = words[PARTIES]!;
    for (;;) {
      if (Atomics.load(words, BROKEN)) {
        sync(Op.error, flow, this.resource, site);
        throw new BrokenBarrierError(`${this.resource.name} is broken`);
      }
      const v = Atomics.load(words, STATE);
      const gen = v >>> COUNT_BITS;
      const index = v & COUNT_MASK;
      if (index + 1 < parties) {
        if (Atomics.compareExchange(words, STATE, v, v + 1) === v) {
          sync(Op.arrive, flow, this.resource, site, index);
          return { index, gen, last: false };
        }
        continue;
      }
      if (index >= parties) {
        // The last party is running the action: this arrival belongs to the next generation.
        Atomics.wait(words, STATE, v, 1);
        continue;
      }
      // The last party claims the generation (count = parties), runs the action before anyone
      // is released, as threading.Barrier does, then opens the next generation.
      if (Atomics.compareExchange(words, STATE, v, v + 1) !== v) continue;
      sync(Op.arrive, flow, this.resource, site, index);
      try {
        this.#action?.();
      } catch (err) {
        this.#break(flow);
        throw new BrokenBarrierError(`${this.resource.name}: the barrier action threw`, {
          cause: err,
        });
      }
      Atomics.store(words, STATE, ((gen + 1) & COUNT_MASK) << COUNT_BITS);
      sync(Op.pass, flow, this.resource, site, gen);
      Atomics.notify(words, STATE);
      return { index, gen, last: true };
    }
  }

  #break(flow: Flow): void {
    if (Atomics.exchange(this.words, BROKEN, 1) === 0) {
      sync(Op.broken, flow, this.resource, 0, this.generation);
    }
    Atomics.notify(this.words, STATE);
  }

  /**
   * After waking: undefined once the generation has passed, the state word to sleep on while it
   * has not, or a throw if the barrier broke. The word is read before the checks, so a pass that
   * happens after them changes it and the sleep returns at once instead of missing the notify.
   */
  #pending(flow: Flow, site: number, gen: number): number | undefined {
    const v = Atomics.load(this.words, STATE);
    if (Atomics.load(this.words, BROKEN)) {
      sync(Op.error, flow, this.resource, site);
      throw new BrokenBarrierError(`${this.resource.name} was broken while waiting`);
    }
    if (v >>> COUNT_BITS !== gen) {
      sync(Op.wake, flow, this.resource, site);
      return undefined;
    }
    return v;
  }

  /**
   * A wait's first steps: arrive and, unless this party was the last, record the wait. Returns
   * the arrival index when the barrier passed at once.
   */
  #begin(what: string, options: { timeout?: number } | undefined) {
    if (options !== undefined) checkOptions(options, `${this.resource.name}.${what}()`);
    const flow = currentFlow();
    const site = siteForBlocking();
    const { index, gen, last } = this.#arrive(flow, site);
    if (last) return index;
    const timeout = options?.timeout;
    const deadline = this.deadline(timeout);
    sync(Op.wait, flow, this.resource, site, index);
    return { flow, site, index, gen, timeout, deadline };
  }

  /** Blocks the thread until every party has arrived (Atomics.wait). Meant for workers. */
  waitSync(options?: { timeout?: number }): number {
    const begun = this.#begin('waitSync', options);
    if (typeof begun === 'number') return begun;
    const { flow, site, index, gen, timeout, deadline } = begun;
    if (rt.recording) flush();
    for (
      let v = this.#pending(flow, site, gen);
      v !== undefined;
      v = this.#pending(flow, site, gen)
    ) {
      const left = this.timeLeft(flow, site, 'waitSync', timeout, deadline, () =>
        this.#break(flow),
      );
      // A break changes BROKEN, not the state word: sleep in slices so it is seen.
      Atomics.wait(this.words, STATE, v, Math.min(left ?? BREAK_POLL_MS, BREAK_POLL_MS));
    }
    return index;
  }

  /** Waits asynchronously until every party has arrived (Atomics.waitAsync). */
  async wait(options?: { timeout?: number }): Promise<number> {
    const begun = this.#begin('wait', options);
    if (typeof begun === 'number') return begun;
    const { flow, site, index, gen, timeout, deadline } = begun;
    const release = keepAlive();
    flow.blocked = true;
    try {
      for (
        let v = this.#pending(flow, site, gen);
        v !== undefined;
        v = this.#pending(flow, site, gen)
      ) {
        const left = this.timeLeft(flow, site, 'wait', timeout, deadline, () => this.#break(flow));
        const slice = Math.min(left ?? BREAK_POLL_MS, BREAK_POLL_MS);
        const w = Atomics.waitAsync(this.words, STATE, v, slice);
        if (w.async) await w.value;
      }
      return index;
    } finally {
      flow.blocked = false;
      release();
    }
  }
}
