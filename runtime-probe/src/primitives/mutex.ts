import { LockMisuseError } from '../errors.js';
import { currentFlow, resolved } from '../identity.js';
import { type Flow } from '../runtime.js';
import {
  Misuse,
  Op,
  newResource,
  siteFor,
  siteForBlocking,
  siteForOther,
  sync,
  type OpCode,
  type ResourceOptions,
} from '../sync.js';
import { checkOptions, Waiter, type BlockOptions } from '../waiting.js';
import { rejectIfAborted } from './begin.js';
import { type Blocker } from './fail-fast.js';
import { Guard, RELEASE, type Hold } from './guard.js';
import { whenDecided } from '../runs.js';
import { ExclusiveLock } from './base.js';
import { gated, mustGate } from '../explore/hooks.js';

/** The guard a Mutex grants: `release()` it, or let `using` release it. */
export type MutexGuard = Guard;

/**
 * A mutual-exclusion lock for async tasks, granted in FIFO order.
 *
 * ```ts
 * using guard = await mutex.acquire();
 * // critical section
 * ```
 *
 * A task that acquires a Mutex it already holds waits forever (a self-deadlock); the probe
 * records it as a `misuse` event so the analysis can report it. Use ReentrantMutex where
 * re-entry is intended.
 */
export class Mutex extends ExclusiveLock {
  #holder: Hold | undefined = undefined;

  /** A mutex, free. `options.name` names it in findings. */
  constructor(options?: ResourceOptions) {
    super(newResource('mutex', options));
  }

  /** True while a task holds it. */
  get isLocked(): boolean {
    return this.#holder !== undefined;
  }

  /**
   * Waits for the mutex, in FIFO order, and returns the guard that releases it. Rejects with a
   * TimeoutError or AbortError per `options`, and under fail-fast with a DeadlockError when the
   * wait would close a cycle.
   */
  acquire(options?: BlockOptions): Promise<MutexGuard> {
    if (options !== undefined) checkOptions(options, `${this.resource.name}.acquire()`);
    if (mustGate()) return gated(this.resource, 'acquire', () => this.acquire(options));
    const flow = currentFlow();
    const free = this.#holder === undefined && this.waiters.size === 0;
    const site = siteFor(this.resource, flow, !free);
    const aborted = rejectIfAborted(options, flow, this.resource, site, 'acquire');
    if (aborted) return aborted;
    if (free) return Promise.resolve(this.#grant(flow, site));
    const holder = this.#holder;
    if (holder && resolved(holder.flow).id === resolved(flow).id) {
      // A provisional caller may yet turn out to be a flow of its own: judged once it is decided.
      const check = (): void => {
        if (this.#holder === holder && resolved(holder.flow).id === resolved(flow).id) {
          sync(Op.misuse, flow, this.resource, site, Misuse.selfDeadlock);
        }
      };
      whenDecided(flow, check);
    }
    return this.queue(flow, site, options);
  }

  /** Acquires at once if the mutex is free and nobody waits; otherwise returns undefined. */
  tryAcquire(): MutexGuard | undefined {
    const flow = currentFlow();
    const site = siteForOther();
    if (this.#holder === undefined && this.waiters.size === 0) {
      return this.#grant(flow, site, Op.tryAcquired);
    }
    sync(Op.tryFailed, flow, this.resource, site || siteForBlocking());
    return undefined;
  }

  #grant(flow: Flow, site: number, op: OpCode = Op.acquired): Guard {
    const hold: Hold = { flow, site, released: false, n: 1 };
    this.#holder = hold;
    sync(op, flow, this.resource, site);
    return new Guard(this, hold, op === Op.tryAcquired);
  }

  /** @internal */
  [RELEASE](hold: Hold): void {
    if (this.#holder !== hold) {
      throw new LockMisuseError(
        `${this.resource.name} was released by a guard that does not hold it`,
      );
    }
    sync(Op.released, hold.flow, this.resource);
    this.#holder = undefined;
    this.#handOff();
  }

  #handOff(): void {
    for (;;) {
      const w = this.waiters.shift();
      if (!w) return;
      const hold = w.data;
      this.#holder = hold;
      sync(Op.acquired, hold.flow, this.resource, hold.site);
      if (w.grant(hold)) return;
      this.#holder = undefined;
    }
  }

  /**
   * For Condition: releases the mutex held by `flow` without invalidating its guard, and returns
   * the hold so that the same guard stays valid after `reacquire`.
   * @internal
   */
  releaseForWait(flow: Flow): Hold {
    const hold = this.#holder;
    if (!hold) throw new LockMisuseError(`${this.resource.name} is not held`);
    if (resolved(hold.flow).id !== resolved(flow).id) {
      sync(Op.misuse, flow, this.resource, 0, Misuse.releaseByNonOwner);
    }
    sync(Op.released, hold.flow, this.resource);
    this.#holder = undefined;
    this.#handOff();
    return hold;
  }

  /**
   * For Condition: takes the mutex back for `hold`, queueing behind other waiters if needed.
   * @internal
   */
  reacquire(hold: Hold, flow: Flow): Promise<void> {
    hold.flow = flow;
    if (this.#holder === undefined && this.waiters.size === 0) {
      this.#holder = hold;
      sync(Op.acquired, flow, this.resource, hold.site);
      return Promise.resolve();
    }
    const w = new Waiter<Hold, Hold>(flow, hold.site, hold);
    this.waiters.push(w);
    sync(Op.request, flow, this.resource, hold.site);
    // Re-acquisition after a condition wait is not cancellable: the caller must hold the lock
    // again before its wait() settles, whatever happened to the wait.
    return w.start(this.resource, undefined, `${this.resource.name}.acquire()`).then(() => {});
  }

  /**
   * The flow that must release the mutex first, for fail-fast detection.
   * @internal
   */
  *blockersOf(): Iterable<Blocker> {
    if (this.#holder) yield { flow: this.#holder.flow, ahead: false };
  }

  /**
   * The flow holding the mutex, for Condition's checks.
   * @internal
   */
  holderFlow(): Flow | undefined {
    return this.#holder?.flow;
  }
}
