/**
 * async-mutex's Mutex: its semaphore of one (core.ts), reported as a mutex so that the analysis
 * finds deadlocks and lock-order inversions through it.
 */
import { Core } from './core.js';
import { E_CANCELED } from './errors.js';
import type { MutexInterface } from './interfaces.js';
import { runHolding } from './semaphore.js';

export class Mutex implements MutexInterface {
  readonly #core: Core;

  /** A free mutex; `cancelError` is what `cancel()` rejects pending acquisitions with. */
  constructor(cancelError: Error = E_CANCELED) {
    this.#core = new Core(1, cancelError, 'mutex');
  }

  /**
   * Resolves, once the mutex is free and no one of a higher priority (or an equal one, earlier)
   * waits, to the releaser that frees it; calling the releaser again does nothing.
   */
  async acquire(priority = 0): Promise<MutexInterface.Releaser> {
    const [, releaser] = await this.#core.acquire(1, priority);
    return releaser;
  }

  /** Runs `callback` holding the mutex, and frees it however the callback ends. */
  runExclusive<T>(callback: MutexInterface.Worker<T>, priority = 0): Promise<T> {
    return runHolding(this.#core.acquire(1, priority), () => callback());
  }

  /** True while somebody holds it. */
  isLocked(): boolean {
    return this.#core.isLocked();
  }

  /** Resolves when the mutex could be acquired at `priority`, without acquiring it. */
  waitForUnlock(priority = 0): Promise<void> {
    return this.#core.waitForUnlock(1, priority);
  }

  /** Frees the mutex if it is held, whoever holds it. */
  release(): void {
    if (this.#core.isLocked()) this.#core.releaseOldest();
  }

  /** Rejects every pending acquisition with the cancel error; the holder keeps the mutex. */
  cancel(): void {
    this.#core.cancel();
  }
}
