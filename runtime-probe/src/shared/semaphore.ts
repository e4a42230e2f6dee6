import { LockMisuseError } from '../errors.js';
import { currentFlow } from '../identity.js';
import { flush } from '../recorder.js';
import { rt, type Flow, type ResourceRec } from '../runtime.js';
import { Misuse, Op, siteForBlocking, siteForOther, sync, type ResourceOptions } from '../sync.js';
import { checkOptions } from '../waiting.js';
import {
  isHandle,
  keepAlive,
  requestOp,
  SharedPrimitive,
  sharedResource,
  type SharedHandle,
} from './handle.js';
import { RELEASE_SHARED, SharedGuard } from './guard.js';

// Layout, in 32-bit words.
const PERMITS = 0; // permits available now
const INITIAL = 1; // the initial permits, for the bounded check
const BOUNDED = 2; // 1 when releasing beyond INITIAL is an error
const WORDS = 4;

/** Options of a SharedSemaphore. */
export interface SharedSemaphoreOptions extends ResourceOptions {
  /** Releasing beyond the initial permits throws LockMisuseError. */
  bounded?: boolean;
}

/**
 * A counting semaphore in shared memory for worker threads. `acquireSync()` blocks a worker;
 * `acquire()` waits asynchronously. Both return a guard that gives the permit back; `release()`
 * adds permits without one. Not FIFO.
 */
export class SharedSemaphore extends SharedPrimitive {
  /** @internal */
  readonly resource: ResourceRec;

  /**
   * A semaphore in shared memory with `permits` permits; open it in another thread with
   * `SharedSemaphore.from(handle)`.
   */
  constructor(permits: number, options?: SharedSemaphoreOptions, handle?: SharedHandle) {
    if (!handle && !(Number.isInteger(permits) && permits >= 0 && permits < 2 ** 31)) {
      throw new TypeError(
        `SharedSemaphore: permits must be an integer >= 0, got ${String(permits)}`,
      );
    }
    super('shared-semaphore', WORDS, handle);
    if (!handle) {
      this.words[PERMITS] = permits;
      this.words[INITIAL] = permits;
      this.words[BOUNDED] = options?.bounded ? 1 : 0;
    }
    this.resource = sharedResource('shared-semaphore', options, handle, this.words[INITIAL]);
  }

  /** Opens, in this thread, the semaphore another thread made, from its `handle`. */
  static from(handle: unknown): SharedSemaphore {
    if (!isHandle(handle, 'shared-semaphore')) {
      throw new TypeError('SharedSemaphore.from(): expected the handle of a SharedSemaphore');
    }
    return new SharedSemaphore(0, undefined, handle);
  }

  /** Permits available now. */
  get value(): number {
    return Atomics.load(this.words, PERMITS);
  }

  #take(): boolean {
    const words = this.words;
    for (;;) {
      const v = Atomics.load(words, PERMITS);
      if (v <= 0) return false;
      if (Atomics.compareExchange(words, PERMITS, v, v - 1) === v) return true;
    }
  }

  #granted(flow: Flow, site: number): SharedGuard {
    sync(Op.acquired, flow, this.resource, site, 1);
    return new SharedGuard(this, flow, false);
  }

  /** Takes a permit at once if one is free; otherwise returns undefined. */
  tryAcquire(): SharedGuard | undefined {
    const flow = currentFlow();
    const site = siteForOther();
    if (this.#take()) return this.#granted(flow, site);
    sync(Op.tryFailed, flow, this.resource, site || siteForBlocking(), 1);
    return undefined;
  }

  /** Blocks the thread until a permit is taken (Atomics.wait). Meant for workers. */
  acquireSync(options?: { timeout?: number }): SharedGuard {
    if (options !== undefined) checkOptions(options, `${this.resource.name}.acquireSync()`);
    const flow = currentFlow();
    if (this.#take()) return this.#granted(flow, siteForBlocking());
    const site = siteForBlocking();
    const timeout = options?.timeout;
    const deadline = this.deadline(timeout);
    sync(requestOp(options), flow, this.resource, site, 1);
    if (rt.recording) flush();
    while (!this.#take()) {
      const left = this.timeLeft(flow, site, 'acquireSync', timeout, deadline);
      Atomics.wait(this.words, PERMITS, 0, left);
    }
    return this.#granted(flow, site);
  }

  /** Waits asynchronously until a permit is taken (Atomics.waitAsync). */
  async acquire(options?: { timeout?: number }): Promise<SharedGuard> {
    if (options !== undefined) checkOptions(options, `${this.resource.name}.acquire()`);
    const flow = currentFlow();
    if (this.#take()) return this.#granted(flow, siteForBlocking());
    const site = siteForBlocking();
    const timeout = options?.timeout;
    const deadline = this.deadline(timeout);
    sync(requestOp(options), flow, this.resource, site, 1);
    const release = keepAlive();
    flow.blocked = true;
    try {
      while (!this.#take()) {
        const left = this.timeLeft(flow, site, 'acquire', timeout, deadline);
        const w = Atomics.waitAsync(this.words, PERMITS, 0, left);
        if (w.async) await w.value;
      }
      return this.#granted(flow, site);
    } finally {
      flow.blocked = false;
      release();
    }
  }

  /** Adds `n` permits without a guard (signalling between threads). */
  release(n = 1): void {
    if (!(Number.isInteger(n) && n >= 1)) {
      throw new TypeError(`${this.resource.name}.release(): n must be an integer >= 1`);
    }
    this.#give(currentFlow(), n);
  }

  /** @internal */
  [RELEASE_SHARED](flow: Flow | undefined): void {
    this.#give(flow ?? currentFlow(), 1);
  }

  #give(flow: Flow, n: number): void {
    const words = this.words;
    if (words[BOUNDED]) {
      for (;;) {
        const v = Atomics.load(words, PERMITS);
        if (v + n > words[INITIAL]!) {
          sync(Op.misuse, flow, this.resource, 0, Misuse.overRelease);
          throw new LockMisuseError(
            `${this.resource.name} released beyond its ${words[INITIAL]} permits (bounded semaphore)`,
          );
        }
        if (Atomics.compareExchange(words, PERMITS, v, v + n) === v) break;
      }
    } else {
      Atomics.add(words, PERMITS, n);
    }
    sync(Op.released, flow, this.resource, 0, n);
    Atomics.notify(words, PERMITS, n);
  }
}
