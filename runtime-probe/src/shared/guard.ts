/**
 * The guard every shared lock hands out (SharedMutex, and a SharedSemaphore's permits), and what
 * it releases through.
 */
import { LockMisuseError } from '../errors.js';
import { currentFlow } from '../identity.js';
import type { Flow, ResourceRec } from '../runtime.js';
import { liveHolds, Misuse, Op, sync } from '../sync.js';

export const RELEASE_SHARED = Symbol.for('lockscope.release-shared');

/** What a SharedGuard releases: a shared mutex or a permit of a shared semaphore. */
export interface SharedReleasable {
  readonly resource: ResourceRec;
  /** `flow` is undefined for a hold taken while nothing recorded: who took it did not matter. */
  [RELEASE_SHARED](flow: Flow | undefined): void;
}

/**
 * A guard of a shared lock, used like any guard (`release()`, `using`), which also says whether
 * the previous owner died holding the lock. It is leaner than the async primitives' Guard (one
 * object per acquisition rather than two), because an uncontended shared lock costs only a few
 * tens of nanoseconds; a shared lock is never abandoned by garbage collection, only by its thread
 * ending, and then it is released on the thread's behalf (see lifetimes.ts).
 */
export class SharedGuard implements Disposable {
  #mutex: SharedReleasable;
  #flow: Flow | undefined;
  #released = false;

  /** Made by the shared lock that grants the hold. */
  constructor(
    mutex: SharedReleasable,
    flow: Flow | undefined,
    /** True when the previous holder ended while holding: the protected state may be inconsistent. */
    readonly ownerDied: boolean,
  ) {
    this.#mutex = mutex;
    this.#flow = flow;
    liveHolds.count++;
  }

  /** True until this guard has been released. */
  get held(): boolean {
    return !this.#released;
  }

  /** Ends the hold, and wakes the next waiter in any thread. */
  release(): void {
    if (this.#released) {
      sync(Op.misuse, currentFlow(), this.#mutex.resource, 0, Misuse.releaseNotHeld);
      throw new LockMisuseError(
        `${this.#mutex.resource.name} was released twice through the same guard`,
      );
    }
    this.#released = true;
    liveHolds.count--;
    this.#mutex[RELEASE_SHARED](this.#flow);
  }

  /** Ends the hold at the end of a `using` block (a hold already released is left alone). */
  [Symbol.dispose](): void {
    if (!this.#released) this.release();
  }
}
