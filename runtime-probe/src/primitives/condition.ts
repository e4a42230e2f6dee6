import { LockMisuseError } from '../errors.js';
import { currentFlow, resolved } from '../identity.js';
import type { Flow } from '../runtime.js';
import { Misuse, Op, newResource, siteForBlocking, sync, type ResourceOptions } from '../sync.js';
import {
  alreadyAborted,
  checkOptions,
  immediateTimeout,
  Waiter,
  type BlockOptions,
} from '../waiting.js';
import type { Mutex } from './mutex.js';
import { Queued } from './base.js';
import { gated, mustGate } from '../explore/hooks.js';

/**
 * A condition variable bound to a Mutex (a monitor). `wait()` releases the mutex, waits for a
 * notify, and re-acquires the mutex before it settles, also when it times out or is aborted (then
 * it rejects, with the lock held again, so the caller's guard stays valid).
 *
 * Waiting or notifying without holding the mutex throws LockMisuseError. Ownership is judged by
 * task identity; where the holder's or the caller's identity is uncertain (see identity.ts), the
 * probe records a `misuse` event and carries on rather than throwing into a correct program.
 */
export class Condition extends Queued<void, undefined> {
  /** The mutex a waiter must hold, which `wait()` releases while it waits. */
  readonly mutex: Mutex;

  /** A condition variable tied to `mutex`. */
  constructor(mutex: Mutex, options?: ResourceOptions) {
    super(newResource('condition', options));
    this.mutex = mutex;
  }

  #checkHeld(flow: Flow, what: string): void {
    const holder = this.mutex.holderFlow();
    if (!holder) {
      sync(Op.misuse, flow, this.resource, 0, Misuse.waitWithoutLock);
      throw new LockMisuseError(`${what} needs ${this.mutex.name} held, but it is not locked`);
    }
    const a = resolved(holder);
    const b = resolved(flow);
    if (a.id !== b.id) {
      sync(Op.misuse, flow, this.resource, 0, Misuse.waitWithoutLock);
      // Refused before anything is released. A provisional caller acts as the flow that runs
      // the run until it is decided, and the holder cannot be a flow decided later, so different
      // ids are a real difference; only an uncertain identity could be mistaken.
      if (!a.uncertain && !b.uncertain) {
        throw new LockMisuseError(
          `${what} needs ${this.mutex.name} held, but it is held by ${a.name}, not ${b.name}`,
        );
      }
    }
  }

  /**
   * Releases the mutex, which the calling task must hold, waits for a notify, and takes the mutex
   * back before it returns (also when it rejects with a TimeoutError or AbortError). Another task
   * may change the state before this one runs again: wait in a loop on it, or use `waitFor()`.
   */
  async wait(options?: BlockOptions): Promise<void> {
    const what = `${this.resource.name}.wait()`;
    if (options !== undefined) checkOptions(options, what);
    if (mustGate()) return gated(this.resource, 'wait', () => this.wait(options));
    const flow = currentFlow();
    const site = siteForBlocking();
    this.#checkHeld(flow, what);
    if (options?.signal?.aborted) {
      sync(Op.cancel, flow, this.resource, site);
      throw alreadyAborted(options.signal, what);
    }
    const hold = this.mutex.releaseForWait(flow);
    const w = new Waiter<void, undefined>(flow, site, undefined);
    let failure: Error | undefined;
    if (options?.timeout === 0) {
      sync(Op.timeout, flow, this.resource, site);
      failure = immediateTimeout(what);
    } else {
      this.waiters.push(w);
      sync(Op.wait, flow, this.resource, site);
      try {
        // notify() records the wake when it grants: the wait ends then, not when this resumes.
        await w.start(this.resource, options, what);
      } catch (err) {
        failure = err instanceof Error ? err : new Error(String(err));
      }
    }
    await this.mutex.reacquire(hold, flow);
    if (failure !== undefined) throw failure;
  }

  /** Waits until `predicate()` is true, re-checking after every wake; returns its value. */
  async waitFor<T>(predicate: () => T, options?: BlockOptions): Promise<T> {
    const deadline =
      options?.timeout !== undefined ? performance.now() + options.timeout : undefined;
    for (;;) {
      const value = predicate();
      if (value) return value;
      const timeout =
        deadline !== undefined ? Math.max(0, deadline - performance.now()) : undefined;
      await this.wait(timeout !== undefined ? { ...options, timeout } : options);
    }
  }

  /** Wakes up to `n` waiters (default 1). */
  notify(n = 1): void {
    const flow = currentFlow();
    this.#checkHeld(flow, `${this.resource.name}.notify()`);
    let woken = 0;
    while (woken < n) {
      const w = this.waiters.shift();
      if (!w) break;
      if (w.grant(undefined)) {
        woken++;
        sync(Op.wake, w.flow, this.resource, w.site);
      }
    }
    sync(Op.notify, flow, this.resource, 0, woken);
  }

  /** Wakes every waiting task. */
  notifyAll(): void {
    this.notify(Number.POSITIVE_INFINITY);
  }
}
