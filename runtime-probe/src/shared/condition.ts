import { LockMisuseError, TimeoutError } from '../errors.js';
import { currentFlow } from '../identity.js';
import { flush } from '../recorder.js';
import { rt, type Flow, type ResourceRec } from '../runtime.js';
import { Misuse, Op, siteForBlocking, sync, type ResourceOptions } from '../sync.js';
import { checkOptions } from '../waiting.js';
import {
  isHandle,
  keepAlive,
  SharedPrimitive,
  sharedResource,
  type SharedHandle,
} from './handle.js';
import { SharedMutex } from './mutex.js';
import { clock } from '../clock.js';

// One word: a sequence number that every notify bumps. A waiter sleeps on the value it read while
// it still held the mutex, so a notify between its unlock and its sleep is never lost.
const SEQ = 0;

/**
 * A condition variable in shared memory, bound to a SharedMutex, for worker threads. The calling
 * thread must hold the mutex. `waitSync()` blocks a worker; `wait()` waits asynchronously. Both
 * give the mutex up while waiting and hold it again when they return, also on timeout (then they
 * throw TimeoutError). Like every futex condition variable it may wake without a notify: use
 * `waitForSync`/`waitFor` with a predicate.
 */
export class SharedCondition extends SharedPrimitive {
  /** @internal */
  readonly resource: ResourceRec;
  /** The shared mutex a waiter must hold, which a wait releases while it waits. */
  readonly mutex: SharedMutex;

  /**
   * A condition variable in shared memory tied to `mutex`; open it elsewhere with
   * `SharedCondition.from(handle, mutex)`.
   */
  constructor(mutex: SharedMutex, options?: ResourceOptions, handle?: SharedHandle) {
    super('shared-condition', 1, handle);
    this.mutex = mutex;
    this.resource = sharedResource('shared-condition', options, handle);
  }

  /** Makes a working condition from its handle and its mutex, received from another thread. */
  static from(handle: unknown, mutex: SharedMutex): SharedCondition {
    if (!isHandle(handle, 'shared-condition')) {
      throw new TypeError('SharedCondition.from(): expected the handle of a SharedCondition');
    }
    return new SharedCondition(mutex, undefined, handle);
  }

  #requireHeld(flow: Flow, method: string): void {
    if (this.mutex.heldHere) return;
    sync(Op.misuse, flow, this.resource, 0, Misuse.waitWithoutLock);
    throw new LockMisuseError(
      `${this.resource.name}.${method}() needs ${this.mutex.name} held by this thread`,
    );
  }

  #timedOut(flow: Flow, site: number, method: string, timeout: number | undefined): TimeoutError {
    sync(Op.timeout, flow, this.resource, site, timeout);
    return new TimeoutError(
      `${this.resource.name}.${method}() timed out after ${timeout} ms`,
      timeout ?? 0,
    );
  }

  /** Waits for a notify, blocking the thread (Atomics.wait). Meant for workers. */
  waitSync(options?: { timeout?: number }): void {
    if (options !== undefined) checkOptions(options, `${this.resource.name}.waitSync()`);
    const flow = currentFlow();
    const site = siteForBlocking();
    this.#requireHeld(flow, 'waitSync');
    const deadline = this.deadline(options?.timeout);
    const seq = Atomics.load(this.words, SEQ);
    sync(Op.wait, flow, this.resource, site);
    this.mutex.unlockForWait(flow);
    if (rt.recording) flush();
    const left = deadline === Infinity ? undefined : Math.max(0, deadline - clock.now());
    const outcome = Atomics.wait(this.words, SEQ, seq, left);
    this.mutex.relockSync(flow, site);
    if (outcome === 'timed-out') throw this.#timedOut(flow, site, 'waitSync', options?.timeout);
    sync(Op.wake, flow, this.resource, site);
  }

  /** Waits for a notify asynchronously (Atomics.waitAsync). */
  async wait(options?: { timeout?: number }): Promise<void> {
    if (options !== undefined) checkOptions(options, `${this.resource.name}.wait()`);
    const flow = currentFlow();
    const site = siteForBlocking();
    this.#requireHeld(flow, 'wait');
    const deadline = this.deadline(options?.timeout);
    const seq = Atomics.load(this.words, SEQ);
    sync(Op.wait, flow, this.resource, site);
    this.mutex.unlockForWait(flow);
    const release = keepAlive();
    let outcome: string;
    try {
      const left = deadline === Infinity ? undefined : Math.max(0, deadline - clock.now());
      const w = Atomics.waitAsync(this.words, SEQ, seq, left);
      outcome = w.async ? await w.value : w.value;
    } finally {
      release();
    }
    await this.mutex.relock(flow, site);
    if (outcome === 'timed-out') throw this.#timedOut(flow, site, 'wait', options?.timeout);
    sync(Op.wake, flow, this.resource, site);
  }

  /** Waits, blocking the thread, until `predicate()` is true; returns its value. */
  waitForSync<T>(predicate: () => T, options?: { timeout?: number }): T {
    const deadline = this.deadline(options?.timeout);
    for (;;) {
      const value = predicate();
      if (value) return value;
      this.waitSync(
        deadline === Infinity ? undefined : { timeout: Math.max(0, deadline - clock.now()) },
      );
    }
  }

  /** Waits asynchronously until `predicate()` is true; returns its value. */
  async waitFor<T>(predicate: () => T, options?: { timeout?: number }): Promise<T> {
    const deadline = this.deadline(options?.timeout);
    for (;;) {
      const value = predicate();
      if (value) return value;
      await this.wait(
        deadline === Infinity ? undefined : { timeout: Math.max(0, deadline - clock.now()) },
      );
    }
  }

  /** Wakes up to `n` waiters (default 1). The caller must hold the mutex. */
  notify(n = 1): void {
    const flow = currentFlow();
    this.#requireHeld(flow, 'notify');
    Atomics.add(this.words, SEQ, 1);
    const woken = Atomics.notify(this.words, SEQ, n);
    sync(Op.notify, flow, this.resource, 0, woken);
  }

  /** Wakes every waiter, in every thread. */
  notifyAll(): void {
    this.notify(Number.POSITIVE_INFINITY);
  }
}
