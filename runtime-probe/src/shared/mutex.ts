import { AbandonedLockError, TimeoutError } from '../errors.js';
import { idOf } from '../protocol.js';
import { currentFlow } from '../identity.js';
import { flush, keepTogether } from '../recorder.js';
import { rt, type Flow, type ResourceRec } from '../runtime.js';
import { takeFreshSites } from '../sites.js';
import {
  Op,
  siteForBlocking,
  siteForOther,
  sync,
  type OpCode,
  type ResourceOptions,
} from '../sync.js';
import { alreadyAborted, checkOptions, isBounded, type BlockOptions } from '../waiting.js';
import { ownerDeadPolicy, requestOp } from './handle.js';
import { abortErrorFor } from '../errors.js';
import {
  isHandle,
  keepAlive,
  SharedPrimitive,
  sharedResource,
  type SharedHandle,
} from './handle.js';
import { RELEASE_SHARED, SharedGuard } from './guard.js';
import { hasEnded, LOOK_AGAIN_MS } from './lifetimes.js';
import { rememberSharedLock } from './registry.js';
import { refuseIfCycle } from './deadlock-error.js';
import {
  STATE,
  OWNER_TASK,
  OWNER_SITE,
  LOCK_ID,
  LOCK_TABLE,
  HOLDS,
  WORDS,
  FREE,
  LOCKED,
  CONTENDED,
  ABANDONED,
  BITS,
  NO_TAG,
  tagOf,
  heldBy,
  holderThread,
} from './lock-word.js';
import { lockIdOf, publishHolder, publishWait } from './fail-fast.js';

// Outcomes of one step of the slow path.
const NOT_TAKEN = 0;
const TAKEN = 1;
const TAKEN_DIED = 2;

/** Options of a SharedMutex. */
export interface SharedMutexOptions extends ResourceOptions {
  /**
   * What an acquirer gets when the previous holder's thread ended while holding the lock:
   * `recover` (the default) grants the lock with `guard.ownerDied` set, as POSIX robust mutexes
   * return EOWNERDEAD, so the acquirer can repair the protected state; `error` rejects with
   * AbandonedLockError and leaves the lock as it is.
   */
  onOwnerDead?: 'recover' | 'error';
}

/**
 * A mutex in shared memory, usable from every thread that has its handle. Workers may block
 * (`acquireSync`, with Atomics.wait); `acquire` waits asynchronously (Atomics.waitAsync, holding
 * a handle so that the event loop stays alive), which is what the main thread should use. It is
 * not FIFO: whichever waiter the operating system wakes first takes it.
 *
 * It is robust: when its holder's thread ends, the next acquirer takes it with `ownerDied` set
 * (see `onOwnerDead`), whichever thread made it and whether or not a wrapper of it is still
 * alive anywhere (lifetimes.ts).
 *
 * Pass `mutex.handle` through `workerData` or `postMessage`, and make it a mutex again on the
 * other side with `SharedMutex.from(handle)`.
 */
export class SharedMutex extends SharedPrimitive {
  /** @internal */
  readonly resource: ResourceRec;
  /**
   * What happens when its holder's thread ended while holding it: `recover` (default) hands it on
   * with `ownerDied` set on the next guard; `error` rejects acquisitions with an AbandonedLockError
   * until `clearAbandoned()`.
   */
  readonly onOwnerDead: 'recover' | 'error';
  // Instances are per thread (see `from`): this thread's tag, and the lock word it writes when
  // it takes the lock, computed once.
  readonly #tag = tagOf(rt.threadId);
  readonly #locked = heldBy(this.#tag, LOCKED);
  readonly #contended = heldBy(this.#tag, CONTENDED);
  readonly #mainTask = rt.mainFlow.id >>> 0;
  /** The lock word a waiter waits on, left by the last NOT_TAKEN of `#trySlow`. */
  #seen = 0;
  /** Set while this thread's hold is published in the fail-fast table, to withdraw it. */
  #published = false;

  /**
   * A mutex in shared memory, free; pass `handle` to another thread and open it there with
   * `SharedMutex.from()`.
   */
  constructor(options?: SharedMutexOptions, handle?: SharedHandle) {
    super('shared-mutex', WORDS, handle);
    this.resource = sharedResource('shared-mutex', options, handle);
    rememberSharedLock(this);
    this.onOwnerDead = options?.onOwnerDead ?? (handle ? ownerDeadPolicy(handle) : 'recover');
    if (this.onOwnerDead !== 'recover' && this.onOwnerDead !== 'error') {
      throw new TypeError(`SharedMutex: onOwnerDead must be "recover" or "error"`);
    }
  }

  /** Makes a working mutex from a handle received from another thread. */
  static from(handle: unknown): SharedMutex {
    if (!isHandle(handle, 'shared-mutex')) {
      throw new TypeError('SharedMutex.from(): expected the handle of a SharedMutex');
    }
    return new SharedMutex(undefined, handle);
  }

  /** Plain data to send to another thread. */
  override get handle(): SharedHandle & { onOwnerDead: string } {
    return { ...super.handle, onOwnerDead: this.onOwnerDead };
  }

  /** True while some thread holds it. */
  get isLocked(): boolean {
    const bits = Atomics.load(this.words, STATE) & BITS;
    return bits === LOCKED || bits === CONTENDED;
  }

  /** The thread id of the holder, or undefined when free. */
  get ownerThread(): number | undefined {
    return holderThread(Atomics.load(this.words, STATE));
  }

  /** How many times the lock has been taken (wrapping at 2^32). */
  get holds(): number {
    return Atomics.load(this.words, HOLDS) >>> 0;
  }

  /** The current holder, as the shared state records it, or undefined when free. */
  holder(): { thread: number; task: number; site: number; holds: number } | undefined {
    const words = this.words;
    const thread = holderThread(Atomics.load(words, STATE));
    if (thread === undefined) return undefined;
    return {
      thread,
      task: idOf(thread, words[OWNER_TASK]! >>> 0),
      site: words[OWNER_SITE] ? idOf(thread, words[OWNER_SITE] >>> 0) : 0,
      holds: words[HOLDS]! >>> 0,
    };
  }

  /**
   * Releases the lock on behalf of a thread that ended while holding it, as the kernel does for a
   * POSIX robust mutex: the lock is marked owner-dead and its waiters are woken. Returns false if
   * that thread does not hold it. A thread that ends, and the Worker that started it, call this
   * for the locks they know of; any other acquirer takes such a lock over by itself (`#trySlow`).
   */
  releaseAbandoned(deadThreadId: number): boolean {
    const words = this.words;
    for (;;) {
      const c = Atomics.load(words, STATE);
      if (holderThread(c) !== deadThreadId) return false;
      const held = this.holder();
      // The compare-and-swap fails only if a waiter marked the lock contended meanwhile, or if
      // someone else released it first: look again.
      if (Atomics.compareExchange(words, STATE, c, ABANDONED) !== c) continue;
      // The dead thread cannot withdraw its hold from the fail-fast table: done for it.
      publishHolder(Atomics.load(words, LOCK_ID), 0);
      this.#abandoned(currentFlow(), deadThreadId, held);
      return true;
    }
  }

  /** Records that the lock was left by an ended thread, and wakes every waiter. */
  #abandoned(flow: Flow, deadThreadId: number, held: ReturnType<SharedMutex['holder']>): void {
    sync(Op.abandoned, flow, this.resource, held?.site ?? 0, deadThreadId, held?.task);
    // Every waiter: with `recover` one of them takes it; with `error` all of them must fail.
    Atomics.notify(this.words, STATE);
  }

  /**
   * With `onOwnerDead: 'error'`, an abandoned lock refuses every acquisition until this is called,
   * once the protected state has been repaired or checked.
   */
  clearAbandoned(): void {
    if (Atomics.compareExchange(this.words, STATE, ABANDONED, FREE) === ABANDONED) {
      Atomics.notify(this.words, STATE, 1);
    }
  }

  /** Takes the lock if it is free; otherwise returns undefined. */
  tryAcquire(): SharedGuard | undefined {
    const flow = currentFlow();
    const site = siteForOther();
    if (Atomics.compareExchange(this.words, STATE, FREE, this.#locked) === FREE) {
      return this.#granted(flow, site, false, Op.tryAcquired);
    }
    // A lock its holder can no longer release is taken as a blocking acquisition would take it
    // (or refused with AbandonedLockError), as pthread_mutex_trylock returns EOWNERDEAD.
    const c = Atomics.load(this.words, STATE);
    if (c === ABANDONED || this.#endedHolder(c) !== undefined) {
      const taken = this.#trySlow(flow, site);
      if (taken) return this.#granted(flow, site, taken === TAKEN_DIED, Op.tryAcquired);
    }
    sync(Op.tryFailed, flow, this.resource, site || siteForBlocking());
    return undefined;
  }

  /** Blocks the thread until the lock is taken (Atomics.wait). Meant for workers. */
  acquireSync(options?: { timeout?: number }): SharedGuard {
    if (options !== undefined) checkOptions(options, `${this.resource.name}.acquireSync()`);
    if (Atomics.compareExchange(this.words, STATE, FREE, this.#locked) === FREE) {
      // Uncontended, the path workers take most: who takes the lock matters only to a
      // recording, so without one there is no identity work (the lock word names the thread).
      // With one, every hold's site is captured, unlike an async lock's (sync.ts, `siteFor`):
      // a shared hold's findings (abandoned by an ended thread, held too long) are made by other
      // threads once its holder can no longer say where it took the lock.
      if (!rt.recording) {
        if (rt.config.failFast) this.#publish();
        return new SharedGuard(this, undefined, false);
      }
      const flow = currentFlow();
      return this.#granted(flow, siteForBlocking(), false);
    }
    if (options === undefined && !rt.recording && !rt.config.failFast) {
      // Nobody records or judges this wait and it has no deadline: the lock word's loop alone.
      for (;;) {
        const taken = this.#trySlow(rt.mainFlow, 0);
        if (taken) return this.#granted(rt.mainFlow, 0, taken === TAKEN_DIED);
        Atomics.wait(this.words, STATE, this.#seen, LOOK_AGAIN_MS);
      }
    }
    // The thread is blocked until this returns, so nothing can start a recording meanwhile:
    // without one (and without fail-fast, whose refusal names the actor), the actor is a name
    // nobody will read, and the identity work is skipped.
    const flow = rt.recording || rt.config.failFast ? currentFlow() : rt.mainFlow;
    const site = siteForBlocking();
    const timeout = options?.timeout;
    const deadline = this.deadline(timeout);
    // Only a wait that can never give up takes part in fail-fast (shared/fail-fast.ts). It is
    // judged right after its request is recorded, and before anything is sent, so that a
    // refused one goes out in one batch with its refusal.
    const judged = rt.config.failFast && !isBounded(options) ? this.#lockId() : 0;
    if (judged) keepTogether(2);
    sync(requestOp(options), flow, this.resource, site);
    // eslint-disable-next-line @typescript-eslint/unbound-method -- a mark in the stack, not called.
    if (judged) refuseIfCycle(this.#tag, judged, flow, this.resource, site, this.acquireSync);
    // Whoever watches must see this thread's wait before it blocks.
    if (rt.recording) flush();
    try {
      for (;;) {
        const taken = this.#trySlow(flow, site);
        if (taken) return this.#granted(flow, site, taken === TAKEN_DIED);
        const left = this.timeLeft(flow, site, 'acquireSync', timeout, deadline);
        // Bounded, to look again whether the holder's thread has ended (see lifetimes.ts).
        Atomics.wait(this.words, STATE, this.#seen, Math.min(left ?? Infinity, LOOK_AGAIN_MS));
      }
    } finally {
      if (judged) publishWait(this.#tag, 0);
    }
  }

  /** This lock's id in the fail-fast table (shared/fail-fast.ts); 0 when it takes no part. */
  #lockId(): number {
    return lockIdOf(this.words, LOCK_ID, LOCK_TABLE, this.resource.name);
  }

  /**
   * One step of the slow path: takes the lock if it is free or abandoned, or takes it over if its
   * holder's thread has ended; otherwise marks it contended so that its holder will wake a
   * waiter, leaves the word to wait on in `#seen`, and returns NOT_TAKEN.
   */
  #trySlow(flow: Flow, site: number): typeof NOT_TAKEN | typeof TAKEN | typeof TAKEN_DIED {
    const words = this.words;
    for (;;) {
      const c = Atomics.load(words, STATE);
      if (c === FREE) {
        // Taken as contended: other waiters may be asleep, and this holder must wake one.
        if (Atomics.compareExchange(words, STATE, FREE, this.#contended) === FREE) return TAKEN;
      } else if (c === ABANDONED) {
        if (this.onOwnerDead === 'error') {
          sync(Op.error, flow, this.resource, site);
          throw new AbandonedLockError(
            `${this.resource.name} was abandoned: its holder's thread ended while holding it ` +
              `(call clearAbandoned() once the protected state is repaired)`,
          );
        }
        if (Atomics.compareExchange(words, STATE, ABANDONED, this.#contended) === ABANDONED) {
          return TAKEN_DIED;
        }
      } else {
        const dead = this.#endedHolder(c);
        if (dead !== undefined) {
          // The holder will never release it. The word names the holder, so this cannot take
          // the lock from a later one. With `error` it becomes abandoned (the next round throws).
          const held = this.holder();
          const next = this.onOwnerDead === 'error' ? ABANDONED : this.#contended;
          if (Atomics.compareExchange(words, STATE, c, next) === c) {
            this.#abandoned(flow, dead, held);
            if (next !== ABANDONED) return TAKEN_DIED;
          }
        } else if ((c & BITS) === CONTENDED) {
          this.#seen = c;
          return NOT_TAKEN;
        } else if (Atomics.compareExchange(words, STATE, c, c + 1) === c) {
          // LOCKED + 1 is CONTENDED, under the same tag.
          this.#seen = c + 1;
          return NOT_TAKEN;
        }
      }
    }
  }

  /** The thread of the holder named by the lock word `c`, if that thread has ended. */
  #endedHolder(c: number): number | undefined {
    const tag = c >>> 2;
    if (tag === 0 || tag === NO_TAG || tag === this.#tag || !hasEnded(tag - 1)) return undefined;
    return tag - 1;
  }

  /** Waits asynchronously until the lock is taken (Atomics.waitAsync); usable on every thread. */
  acquire(options?: BlockOptions): Promise<SharedGuard> {
    const what = `${this.resource.name}.acquire()`;
    if (options !== undefined) checkOptions(options, what);
    const flow = currentFlow();
    const signal = options?.signal;
    if (signal?.aborted) {
      sync(Op.cancel, flow, this.resource, siteForBlocking());
      return Promise.reject(alreadyAborted(signal, what));
    }
    if (Atomics.compareExchange(this.words, STATE, FREE, this.#locked) === FREE) {
      return Promise.resolve(this.#granted(flow, siteForBlocking(), false));
    }
    const site = siteForBlocking();
    const timeout = options?.timeout;
    if (timeout === 0) {
      sync(Op.timeout, flow, this.resource, site, 0);
      return Promise.reject(new TimeoutError(`${what} could not complete at once (timeout: 0)`, 0));
    }
    sync(requestOp(options), flow, this.resource, site);
    return this.#waitAsync(flow, site, what, timeout, signal);
  }

  async #waitAsync(
    flow: Flow,
    site: number,
    what: string,
    timeout: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<SharedGuard> {
    const words = this.words;
    const deadline = this.deadline(timeout);
    const release = keepAlive();
    flow.blocked = true;
    let onAbort: (() => void) | undefined;
    const aborted = signal
      ? new Promise<'aborted'>((resolve) => {
          onAbort = () => resolve('aborted');
          signal.addEventListener('abort', onAbort, { once: true });
        })
      : undefined;
    try {
      for (;;) {
        const taken = this.#trySlow(flow, site);
        if (taken) return this.#granted(flow, site, taken === TAKEN_DIED);
        const left = this.timeLeft(flow, site, 'acquire', timeout, deadline);
        // Bounded, to look again whether the holder's thread has ended (see lifetimes.ts).
        const w = Atomics.waitAsync(
          words,
          STATE,
          this.#seen,
          Math.min(left ?? Infinity, LOOK_AGAIN_MS),
        );
        if (w.async) {
          const outcome = aborted ? await Promise.race([w.value, aborted]) : await w.value;
          if (outcome === 'aborted') {
            sync(Op.cancel, flow, this.resource, site);
            throw abortErrorFor(signal!, what);
          }
        }
      }
    } finally {
      flow.blocked = false;
      release();
      if (signal && onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  /** Called with the lock taken: records the owner and hands out a guard. */
  #granted(flow: Flow, site: number, ownerDied: boolean, op: OpCode = Op.acquired): SharedGuard {
    this.#own(flow, site, ownerDied, op);
    return new SharedGuard(this, flow, ownerDied);
  }

  /** Publishes this thread as the holder in the fail-fast table (shared/fail-fast.ts). */
  #publish(): void {
    const id = this.#lockId();
    if (id) {
      publishHolder(id, this.#tag);
      this.#published = true;
    }
  }

  #own(flow: Flow, site: number, ownerDied: boolean, op: OpCode = Op.acquired): void {
    const words = this.words;
    if (rt.config.failFast) this.#publish();
    if (rt.recording) {
      // Plain writes: the lock word's atomic operations order them for the next holder, and
      // observers (the watchdog, whoever releases the lock for an ended thread) only need a
      // recent value.
      // Ids of worker threads exceed 2^32, and cutting one costs more than the rest of this
      // method; the thread's main flow, the usual holder in a worker, has its cut precomputed.
      words[OWNER_TASK] = flow === rt.mainFlow ? this.#mainTask : flow.id >>> 0;
      words[OWNER_SITE] = site >>> 0;
      words[HOLDS] = (words[HOLDS]! + 1) | 0;
      sync(op, flow, this.resource, site, ownerDied ? 1 : 0);
      if (site && rt.threadId !== 0 && takeFreshSites()) flush();
    }
  }

  /**
   * True when this thread holds the lock.
   * @internal
   */
  get heldHere(): boolean {
    const c = Atomics.load(this.words, STATE);
    return c === this.#locked || c === this.#contended;
  }

  /**
   * For SharedCondition: gives the lock up while waiting, leaving the holder's guard valid.
   * @internal
   */
  unlockForWait(flow: Flow): void {
    sync(Op.released, flow, this.resource);
    this.#unlock();
  }

  /**
   * For SharedCondition: takes the lock back after a wait, blocking the thread.
   * @internal
   */
  relockSync(flow: Flow, site: number): void {
    if (Atomics.compareExchange(this.words, STATE, FREE, this.#locked) !== FREE) {
      sync(Op.request, flow, this.resource, site);
      while (!this.#trySlow(flow, site)) Atomics.wait(this.words, STATE, this.#seen, LOOK_AGAIN_MS);
    }
    this.#own(flow, site, false);
  }

  /**
   * For SharedCondition: takes the lock back after a wait, asynchronously.
   * @internal
   */
  async relock(flow: Flow, site: number): Promise<void> {
    if (Atomics.compareExchange(this.words, STATE, FREE, this.#locked) !== FREE) {
      sync(Op.request, flow, this.resource, site);
      const release = keepAlive();
      try {
        while (!this.#trySlow(flow, site)) {
          const w = Atomics.waitAsync(this.words, STATE, this.#seen, LOOK_AGAIN_MS);
          if (w.async) await w.value;
        }
      } finally {
        release();
      }
    }
    this.#own(flow, site, false);
  }

  /**
   * For SharedGuard: the guard has already refused a second release.
   * @internal
   */
  [RELEASE_SHARED](flow: Flow | undefined): void {
    if (rt.recording) sync(Op.released, flow ?? currentFlow(), this.resource);
    this.#unlock();
  }

  #unlock(): void {
    const words = this.words;
    // Withdrawn before the lock is let go, so that the table never names a past holder.
    if (this.#published) {
      this.#published = false;
      publishHolder(Atomics.load(words, LOCK_ID), 0);
    }
    if (Atomics.compareExchange(words, STATE, this.#locked, FREE) === this.#locked) return;
    if (Atomics.compareExchange(words, STATE, this.#contended, FREE) === this.#contended) {
      Atomics.notify(words, STATE, 1);
    }
    // Otherwise the lock is no longer this thread's: it was released on its behalf once the
    // thread was marked ended (an `exit` listener that runs after that one releases late), and
    // it must not be taken from whoever holds it now.
  }
}
