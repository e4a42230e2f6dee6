/**
 * async-mutex's `withTimeout` and `tryAcquire`: wrappers that give up waiting after a time, with
 * async-mutex's exact rules. The time is the program's: the wrapper calls the `setTimeout` the
 * program sees at the call, so that fake timers a test suite installs control it (the probe's
 * own machinery keeps the real timers, clock.ts). An acquisition it gives up on stays queued, as
 * in async-mutex; when it is granted later the wrapper releases it at once, so the lock is never
 * left taken.
 *
 * Any object with the interface's methods can be wrapped. Around a lock of this module, the wait
 * is recorded as one that may give up (`request-bounded`), and its timeout as its end.
 */
import { calls, type Releaser, type Slot, type Ticket } from './core.js';
import { E_ALREADY_LOCKED, E_TIMEOUT } from './errors.js';
import type { MutexInterface, SemaphoreInterface } from './interfaces.js';
import { checkWeight } from './semaphore.js';

/** Either interface, as the wrapper calls it: which one it is shows only at run time. */
interface Lock {
  acquire(weightOrPriority?: number, priority?: number): Promise<Ticket | Releaser>;
  waitForUnlock(weightOrPriority?: number, priority?: number): Promise<void>;
  isLocked(): boolean;
  release(weight?: number): void;
  cancel(): void;
  getValue?: () => number;
  setValue?: (value: number) => void;
}

/** The wrapper's own shape, which is both interfaces' as the overloads of withTimeout say. */
interface Wrapper {
  acquire(weightOrPriority?: number, priority?: number): Promise<Ticket | Releaser>;
  runExclusive<T>(
    callback: (value?: number) => Promise<T> | T,
    weightOrPriority?: number,
    priority?: number,
  ): Promise<T>;
  waitForUnlock(weightOrPriority?: number, priority?: number): Promise<void>;
  isLocked(): boolean;
  release(weight?: number): void;
  cancel(): void;
  getValue(): number;
  setValue(value: number): void;
}

/** async-mutex tells a semaphore from a mutex by its `getValue`; a wrapper has one too. */
function isSemaphore(lock: Lock): boolean {
  return lock.getValue !== undefined;
}

/**
 * Makes the one synchronous call to the wrapped lock, marked as a wait that may give up, and
 * returns what it returned with a function that records, at the timeout, that its caller gave up.
 * A wrapper around a wrapper hands what the lock noted on to the outer one too.
 */
function tracked<T>(call: () => T, ms: number): { result: T; gaveUp: () => void } {
  const outer = calls.slot;
  const slot: Slot = {};
  calls.slot = slot;
  let result: T;
  try {
    result = call();
  } finally {
    calls.slot = outer;
  }
  if (outer) Object.assign(outer, slot);
  return {
    result,
    gaveUp: () => (slot.core && slot.pending ? slot.core.giveUp(slot.pending, ms) : undefined),
  };
}

/** Wraps a mutex so that its waits reject with `timeoutError` after `timeout` milliseconds. */
export function withTimeout(
  mutex: MutexInterface,
  timeout: number,
  timeoutError?: Error,
): MutexInterface;
/** Wraps a semaphore so that its waits reject with `timeoutError` after `timeout` milliseconds. */
export function withTimeout(
  semaphore: SemaphoreInterface,
  timeout: number,
  timeoutError?: Error,
): SemaphoreInterface;
export function withTimeout(
  sync: MutexInterface | SemaphoreInterface,
  timeout: number,
  timeoutError: Error = E_TIMEOUT,
): MutexInterface | SemaphoreInterface {
  // Each overload's interface is a view of this one object, as in async-mutex.
  const lock = sync as unknown as Lock;
  /** The weight and the priority, from the arguments of a call that takes either. */
  const split = (
    weightOrPriority: number | undefined,
    priority: number | undefined,
  ): [number | undefined, number | undefined] => {
    if (!isSemaphore(lock)) return [undefined, weightOrPriority];
    if (weightOrPriority !== undefined) checkWeight(weightOrPriority);
    return [weightOrPriority, priority];
  };
  const wrapper: Wrapper = {
    acquire(weightOrPriority, priorityArg) {
      const [weight, priority] = split(weightOrPriority, priorityArg);
      return new Promise<Ticket | Releaser>((resolve, reject) => {
        let timedOut = false;
        let gaveUp = (): void => undefined;
        const handle = setTimeout(() => {
          timedOut = true;
          gaveUp();
          reject(timeoutError);
        }, timeout);
        let call: { result: Promise<Ticket | Releaser>; gaveUp: () => void };
        try {
          call = tracked(
            () => (isSemaphore(lock) ? lock.acquire(weight, priority) : lock.acquire(priority)),
            timeout,
          );
        } catch (error) {
          clearTimeout(handle);
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the lock's own error, passed on as it is.
          reject(error);
          return;
        }
        gaveUp = call.gaveUp;
        call.result.then(
          (ticket) => {
            if (timedOut) {
              // Granted after its caller gave up: given back at once.
              (Array.isArray(ticket) ? ticket[1] : ticket)();
            } else {
              clearTimeout(handle);
              resolve(ticket);
            }
          },
          (error: unknown) => {
            if (timedOut) return;
            clearTimeout(handle);
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the lock's own rejection, passed on as it is.
            reject(error);
          },
        );
      });
    },

    async runExclusive(callback, weightOrPriority, priority) {
      let release: Releaser = () => undefined;
      try {
        const ticket = await this.acquire(weightOrPriority, priority);
        if (Array.isArray(ticket)) {
          release = ticket[1];
          return await callback(ticket[0]);
        }
        release = ticket;
        return await callback();
      } finally {
        release();
      }
    },

    release(weight) {
      lock.release(weight);
    },

    cancel() {
      lock.cancel();
    },

    waitForUnlock(weightOrPriority, priorityArg) {
      const [weight, priority] = split(weightOrPriority, priorityArg);
      return new Promise<void>((resolve, reject) => {
        let gaveUp = (): void => undefined;
        const handle = setTimeout(() => {
          gaveUp();
          reject(timeoutError);
        }, timeout);
        const call = tracked(
          () =>
            isSemaphore(lock) ? lock.waitForUnlock(weight, priority) : lock.waitForUnlock(priority),
          timeout,
        );
        gaveUp = call.gaveUp;
        void call.result.then(() => {
          clearTimeout(handle);
          resolve();
        });
      });
    },

    isLocked() {
      return lock.isLocked();
    },

    getValue() {
      // A wrapped mutex has none: this throws the same TypeError as async-mutex's wrapper.
      return (lock.getValue as () => number)();
    },

    setValue(value) {
      (lock.setValue as (value: number) => void)(value);
    },
  };
  return wrapper as unknown as MutexInterface & SemaphoreInterface;
}

/** Wraps a mutex so that an acquisition that cannot be granted at once rejects. */
export function tryAcquire(mutex: MutexInterface, alreadyAcquiredError?: Error): MutexInterface;
/** Wraps a semaphore so that an acquisition that cannot be granted at once rejects. */
export function tryAcquire(
  semaphore: SemaphoreInterface,
  alreadyAcquiredError?: Error,
): SemaphoreInterface;
export function tryAcquire(
  sync: MutexInterface | SemaphoreInterface,
  alreadyAcquiredError: Error = E_ALREADY_LOCKED,
): MutexInterface | SemaphoreInterface {
  // A timeout of zero, as in async-mutex: the rejection comes from a timer, after every
  // acquisition that could be granted at once has been.
  return withTimeout(sync as MutexInterface, 0, alreadyAcquiredError);
}
