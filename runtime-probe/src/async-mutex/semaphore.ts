/**
 * async-mutex's Semaphore: a value that acquisitions of a weight take from and releases give back
 * to, with priorities. Its queue and its reports are the core's (core.ts).
 */
import { Core } from './core.js';
import { E_CANCELED } from './errors.js';
import type { SemaphoreInterface } from './interfaces.js';

/** The error async-mutex throws, at the call, for a weight that is not positive. */
export function checkWeight(weight: number): void {
  if (weight <= 0) throw new Error(`invalid weight ${weight}: must be positive`);
}

/**
 * Runs `callback` holding `weight` of `acquire`'s lock, and releases it however the callback
 * ends: the one shape of every `runExclusive`.
 */
export async function runHolding<T>(
  acquire: Promise<[number, () => void]>,
  callback: (value: number) => Promise<T> | T,
): Promise<T> {
  const [value, release] = await acquire;
  try {
    return await callback(value);
  } finally {
    release();
  }
}

export class Semaphore implements SemaphoreInterface {
  readonly #core: Core;

  /**
   * A semaphore of `value`; `cancelError` is what `cancel()` rejects pending acquisitions with
   * (E_CANCELED by default).
   */
  constructor(value: number, cancelError: Error = E_CANCELED) {
    this.#core = new Core(value, cancelError, 'semaphore');
  }

  /**
   * Resolves, once `weight` fits and no one of a higher priority (or an equal one, earlier) waits,
   * to the value before it was taken and the releaser that gives it back (once).
   */
  acquire(weight = 1, priority = 0): Promise<[number, SemaphoreInterface.Releaser]> {
    checkWeight(weight);
    return this.#core.acquire(weight, priority);
  }

  /** Runs `callback` with the value while holding `weight`, and releases it however it ends. */
  async runExclusive<T>(
    callback: SemaphoreInterface.Worker<T>,
    weight = 1,
    priority = 0,
  ): Promise<T> {
    // Through `this.acquire`, inside this async method: an invalid weight rejects, as it does in
    // async-mutex, rather than throwing.
    const [value, release] = await this.acquire(weight, priority);
    try {
      return await callback(value);
    } finally {
      release();
    }
  }

  /** Resolves when `weight` could be acquired at `priority`, without acquiring it. */
  waitForUnlock(weight = 1, priority = 0): Promise<void> {
    checkWeight(weight);
    return this.#core.waitForUnlock(weight, priority);
  }

  /** True when the value is zero or less. */
  isLocked(): boolean {
    return this.#core.isLocked();
  }

  getValue(): number {
    return this.#core.value;
  }

  /** Sets the value, and grants what it now lets through. */
  setValue(value: number): void {
    this.#core.setValue(value);
  }

  /** Gives back `weight` without a releaser: the caller must give back what it took. */
  release(weight = 1): void {
    checkWeight(weight);
    this.#core.release(weight);
  }

  /** Rejects every pending acquisition with the cancel error; holds are kept. */
  cancel(): void {
    this.#core.cancel();
  }
}
