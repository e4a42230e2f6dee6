import { AbandonedLockError, LockMisuseError, TimeoutError } from '../errors.js';
import { currentFlow } from '../identity.js';
import { flush } from '../recorder.js';
import { rt, type Flow, type ResourceRec } from '../runtime.js';
import { takeFreshSites } from '../sites.js';
import {
  Misuse,
  Op,
  siteForBlocking,
  siteForOther,
  sync,
  type OpCode,
  type ResourceOptions,
} from '../sync.js';
import { alreadyAborted, checkOptions, type BlockOptions } from '../waiting.js';
import { abortErrorFor } from '../errors.js';
import {
  isHandle,
  keepAlive,
  SharedPrimitive,
  sharedResource,
  type SharedHandle,
} from './handle.js';
import { rememberSharedLock } from './worker.js';

// Layout of the shared state, in 32-bit words.
const STATE = 0; // see FREE .. ABANDONED
// The holder's thread sits beside the lock word: the compare-and-swap that took the lock has just
// brought that cache line to this core, so writing it costs nothing more. What only reports need
// (task, site, hold count) is on another line and written only while recording, so that an
// unobserved lock moves no extra line between cores when it changes hands.
const OWNER_THREAD = 1; // thread id + 1 of the holder, 0 when free
const OWNER_TASK = 16; // the holder's task id, low 32 bits (the high bits are the thread)
const OWNER_SITE = 17; // the holder's acquisition site, low 32 bits
const HOLDS = 18; // how many times it has been taken while recording: a watchdog that sees the
// same count twice T apart knows the current hold has lasted at least T, without a clock read.
const WORDS = 32;

// Values of STATE: Drepper's futex mutex ("Futexes are tricky", mutex 2), plus one for a lock
// whose holder's thread ended while holding it. Keeping that in the lock word leaves the fast
// path a single compare-and-swap, as in the minimal mutex.
const FREE = 0;
const LOCKED = 1;
const CONTENDED = 2; // locked, and perhaps with waiters
const ABANDONED = 3; // free, but the last holder died holding it

// Outcomes of one step of the slow path.
const NOT_TAKEN = 0;
const TAKEN = 1;
const TAKEN_DIED = 2;

export interface SharedMutexOptions extends ResourceOptions {
  /**
   * What an acquirer gets when the previous holder's thread ended while holding the lock:
   * `recover` (the default) grants the lock with `guard.ownerDied` set, as POSIX robust mutexes
   * return EOWNERDEAD, so the acquirer can repair the protected state; `error` rejects with
   * AbandonedLockError and leaves the lock as it is.
   */
  onOwnerDead?: 'recover' | 'error';
}

export const RELEASE_SHARED = Symbol.for('lockscope.release-shared');

/** What a SharedGuard releases: a shared mutex or a permit of a shared semaphore. */
export interface SharedReleasable {
  readonly resource: ResourceRec;
  [RELEASE_SHARED](flow: Flow): void;
}

/**
 * A guard of a shared lock, used like any guard (`release()`, `using`), which also says whether
 * the previous owner died holding the lock. It is leaner than the async primitives' Guard (one
 * object per acquisition rather than two), because an uncontended shared lock costs only a few
 * tens of nanoseconds; a shared lock is never abandoned by garbage collection but by its thread
 * ending, which the thread's exit reports.
 */
export class SharedGuard implements Disposable {
  #mutex: SharedReleasable;
  #flow: Flow;
  #released = false;

  constructor(
    mutex: SharedReleasable,
    flow: Flow,
    /** True when the previous holder ended while holding: the protected state may be inconsistent. */
    readonly ownerDied: boolean,
  ) {
    this.#mutex = mutex;
    this.#flow = flow;
  }

  /** True until this guard has been released. */
  get held(): boolean {
    return !this.#released;
  }

  release(): void {
    if (this.#released) {
      sync(Op.misuse, currentFlow(), this.#mutex.resource, 0, Misuse.releaseNotHeld);
      throw new LockMisuseError(
        `${this.#mutex.resource.name} was released twice through the same guard`,
      );
    }
    this.#released = true;
    this.#mutex[RELEASE_SHARED](this.#flow);
  }

  [Symbol.dispose](): void {
    if (!this.#released) this.release();
  }
}

/**
 * A mutex in shared memory, usable from every thread that has its handle. Workers may block
 * (`acquireSync`, with Atomics.wait); `acquire` waits asynchronously (Atomics.waitAsync, holding
 * a handle so that the event loop stays alive), which is what the main thread should use. It is
 * not FIFO: whichever waiter the operating system wakes first takes it.
 *
 * Pass `mutex.handle` through `workerData` or `postMessage`, and make it a mutex again on the
 * other side with `SharedMutex.from(handle)`.
 */
export class SharedMutex extends SharedPrimitive implements SharedReleasable {
  readonly resource: ResourceRec;
  readonly onOwnerDead: 'recover' | 'error';
  /** This thread's tag in OWNER_THREAD; instances are per thread (see `from`). */
  readonly #thread = rt.threadId + 1;
  readonly #mainTask = rt.mainFlow.id >>> 0;

  constructor(options?: SharedMutexOptions, handle?: SharedHandle) {
    super('shared-mutex', WORDS, handle);
    this.resource = sharedResource('shared-mutex', options, handle);
    rememberSharedLock(this);
    this.onOwnerDead = options?.onOwnerDead ?? (handle ? readPolicy(handle) : 'recover');
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

  get isLocked(): boolean {
    const c = Atomics.load(this.words, STATE);
    return c === LOCKED || c === CONTENDED;
  }

  /** The thread id of the holder, or undefined when free. */
  get ownerThread(): number | undefined {
    const t = Atomics.load(this.words, OWNER_THREAD);
    return t === 0 ? undefined : t - 1;
  }

  /** How many times the lock has been taken (wrapping at 2^32). */
  get holds(): number {
    return Atomics.load(this.words, HOLDS) >>> 0;
  }

  /** The current holder, as the shared state records it, or undefined when free. */
  holder(): { thread: number; task: number; site: number; holds: number } | undefined {
    const words = this.words;
    const tag = Atomics.load(words, OWNER_THREAD);
    if (tag === 0 || !this.isLocked) return undefined;
    const thread = tag - 1;
    return {
      thread,
      task: thread * 2 ** 32 + (words[OWNER_TASK]! >>> 0),
      site: words[OWNER_SITE] ? thread * 2 ** 32 + (words[OWNER_SITE] >>> 0) : 0,
      holds: words[HOLDS]! >>> 0,
    };
  }

  /**
   * Releases the lock on behalf of a thread that ended while holding it, as the kernel does for a
   * POSIX robust mutex: the lock is marked owner-dead and one waiter is woken. Returns false if
   * that thread does not hold it. The Worker wrapper calls this when a worker exits.
   */
  releaseAbandoned(deadThreadId: number): boolean {
    const words = this.words;
    const held = this.holder();
    if (!held || held.thread !== deadThreadId) return false;
    sync(Op.abandoned, currentFlow(), this.resource, held.site, deadThreadId, held.task);
    words[OWNER_THREAD] = 0;
    Atomics.store(words, STATE, ABANDONED);
    // Every waiter: with `recover` one of them takes it; with `error` all of them must fail.
    Atomics.notify(words, STATE);
    return true;
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
    if (Atomics.compareExchange(this.words, STATE, FREE, LOCKED) === FREE) {
      return this.#granted(flow, site, false, Op.tryAcquired);
    }
    sync(Op.tryFailed, flow, this.resource, site || siteForBlocking());
    return undefined;
  }

  /** Blocks the thread until the lock is taken (Atomics.wait). Meant for workers. */
  acquireSync(options?: { timeout?: number }): SharedGuard {
    if (options !== undefined) checkOptions(options, `${this.resource.name}.acquireSync()`);
    // With nothing recording and no concurrent flows in this thread, the actor is the thread's
    // main flow: skip the identity work on the path workers take most.
    const flow = currentFlow();
    const site = siteForBlocking();
    if (Atomics.compareExchange(this.words, STATE, FREE, LOCKED) === FREE) {
      return this.#granted(flow, site, false);
    }
    const timeout = options?.timeout;
    const deadline = this.deadline(timeout);
    sync(Op.request, flow, this.resource, site);
    // Whoever watches must see this thread's wait before it blocks.
    if (rt.recording) flush();
    for (;;) {
      const taken = this.#trySlow(flow, site);
      if (taken) return this.#granted(flow, site, taken === TAKEN_DIED);
      const left = this.timeLeft(flow, site, 'acquireSync', timeout, deadline);
      Atomics.wait(this.words, STATE, CONTENDED, left);
    }
  }

  /**
   * One step of the slow path: takes the lock if it is free or abandoned, otherwise marks it
   * contended so that its holder will wake a waiter, and returns NOT_TAKEN.
   */
  #trySlow(flow: Flow, site: number): typeof NOT_TAKEN | typeof TAKEN | typeof TAKEN_DIED {
    const words = this.words;
    for (;;) {
      const c = Atomics.load(words, STATE);
      if (c === FREE) {
        // Taken as contended: other waiters may be asleep, and this holder must wake one.
        if (Atomics.compareExchange(words, STATE, FREE, CONTENDED) === FREE) return TAKEN;
      } else if (c === ABANDONED) {
        if (this.onOwnerDead === 'error') {
          sync(Op.error, flow, this.resource, site);
          throw new AbandonedLockError(
            `${this.resource.name} was abandoned: its holder's thread ended while holding it ` +
              `(call clearAbandoned() once the protected state is repaired)`,
          );
        }
        if (Atomics.compareExchange(words, STATE, ABANDONED, CONTENDED) === ABANDONED) {
          return TAKEN_DIED;
        }
      } else if (c === CONTENDED) {
        return NOT_TAKEN;
      } else if (Atomics.compareExchange(words, STATE, LOCKED, CONTENDED) === LOCKED) {
        return NOT_TAKEN;
      }
    }
  }

  /** Waits asynchronously until the lock is taken (Atomics.waitAsync); usable on every thread. */
  acquire(options?: BlockOptions): Promise<SharedGuard> {
    const what = `${this.resource.name}.acquire()`;
    if (options !== undefined) checkOptions(options, what);
    const flow = currentFlow();
    const site = siteForBlocking();
    const signal = options?.signal;
    if (signal?.aborted) {
      sync(Op.cancel, flow, this.resource, site);
      return Promise.reject(alreadyAborted(signal, what));
    }
    if (Atomics.compareExchange(this.words, STATE, FREE, LOCKED) === FREE) {
      return Promise.resolve(this.#granted(flow, site, false));
    }
    const timeout = options?.timeout;
    if (timeout === 0) {
      sync(Op.timeout, flow, this.resource, site, 0);
      return Promise.reject(new TimeoutError(`${what} could not complete at once (timeout: 0)`, 0));
    }
    sync(Op.request, flow, this.resource, site);
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
        const w = Atomics.waitAsync(words, STATE, CONTENDED, left);
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

  #own(flow: Flow, site: number, ownerDied: boolean, op: OpCode = Op.acquired): void {
    const words = this.words;
    // Plain writes: the lock word's atomic operations order them for the next holder, and
    // observers (the watchdog, a dead thread's clean-up) only need a recent value.
    words[OWNER_THREAD] = this.#thread;
    if (rt.recording) {
      // Ids of worker threads exceed 2^32, and cutting one costs more than the rest of this
      // method; the thread's main flow, the usual holder in a worker, has its cut precomputed.
      words[OWNER_TASK] = flow === rt.mainFlow ? this.#mainTask : flow.id >>> 0;
      words[OWNER_SITE] = site >>> 0;
      words[HOLDS] = (words[HOLDS]! + 1) | 0;
      sync(op, flow, this.resource, site, ownerDied ? 1 : 0);
      if (site && rt.threadId !== 0 && takeFreshSites()) flush();
    }
  }

  /** True when this thread holds the lock. */
  get heldHere(): boolean {
    return this.isLocked && Atomics.load(this.words, OWNER_THREAD) === this.#thread;
  }

  /** For SharedCondition: gives the lock up while waiting, leaving the holder's guard valid. */
  unlockForWait(flow: Flow): void {
    sync(Op.released, flow, this.resource);
    this.#unlock();
  }

  /** For SharedCondition: takes the lock back after a wait, blocking the thread. */
  relockSync(flow: Flow, site: number): void {
    if (Atomics.compareExchange(this.words, STATE, FREE, LOCKED) !== FREE) {
      sync(Op.request, flow, this.resource, site);
      while (!this.#trySlow(flow, site)) Atomics.wait(this.words, STATE, CONTENDED);
    }
    this.#own(flow, site, false);
  }

  /** For SharedCondition: takes the lock back after a wait, asynchronously. */
  async relock(flow: Flow, site: number): Promise<void> {
    if (Atomics.compareExchange(this.words, STATE, FREE, LOCKED) !== FREE) {
      sync(Op.request, flow, this.resource, site);
      const release = keepAlive();
      try {
        while (!this.#trySlow(flow, site)) {
          const w = Atomics.waitAsync(this.words, STATE, CONTENDED);
          if (w.async) await w.value;
        }
      } finally {
        release();
      }
    }
    this.#own(flow, site, false);
  }

  /** For SharedGuard: the guard has already refused a second release. */
  [RELEASE_SHARED](flow: Flow): void {
    if (rt.recording) sync(Op.released, flow, this.resource);
    this.#unlock();
  }

  #unlock(): void {
    const words = this.words;
    words[OWNER_THREAD] = 0;
    if (Atomics.sub(words, STATE, 1) !== LOCKED) {
      Atomics.store(words, STATE, FREE);
      Atomics.notify(words, STATE, 1);
    }
  }
}

function readPolicy(handle: SharedHandle): 'recover' | 'error' {
  const policy = (handle as SharedHandle & { onOwnerDead?: unknown }).onOwnerDead;
  return policy === 'error' ? 'error' : 'recover';
}
