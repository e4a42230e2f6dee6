/**
 * Timer: Python's threading.Timer, a function run once after a delay, as a task of its own.
 *
 * The delay is a `sleep()` inside a Task, so the timer has what every task has: a flow that
 * starts with the `start()` call that made it (task-start, its parent the starting flow) and
 * records its end (task-end), a join that the analysis follows, and, under `lockscope explore`,
 * a start that is a decision and a delay that is a virtual timer. Cancelling aborts the sleep:
 * its real timer is cleared, so a cancelled timer does not keep the process alive, and its task
 * ends (recorded) without calling the function.
 */
import { LockMisuseError } from '../errors.js';
import { shared } from '../runtime.js';
import { checkOptions, MAX_TIMER_MS, type BlockOptions } from '../waiting.js';
import { sleep, Task } from './task.js';

/**
 * Where a timer is: `created` (not started), `waiting` (started, the delay running), `running`
 * (the function runs), `returned` or `threw` (how the function ended), or `cancelled` (before
 * it fired).
 */
export type TimerState = 'created' | 'waiting' | 'running' | 'returned' | 'threw' | 'cancelled';

/** Options of a Timer. */
export interface TimerOptions {
  /** The name of its task, as findings show it; defaults to `timer` and a number. */
  name?: string;
}

// Shared by both builds, so that default names do not repeat (see runtime.ts).
const count = shared('timer-names', () => ({ n: 0 }));

/**
 * Runs `fn` once, `ms` milliseconds after `start()`, as a task of its own (Python's
 * threading.Timer). It does nothing until started, so that it can be made and handed around
 * first; `cancel()` stops it if it has not fired yet; `join()` waits until it has fired and the
 * function has ended. A started timer keeps the process alive until it fires, as a pending
 * `setTimeout` does; a cancelled one does not.
 */
export class Timer<T = void> {
  /** The name of its task, as findings show it. */
  readonly name: string;
  /** The delay in milliseconds between `start()` and the call of the function. */
  readonly delay: number;
  readonly #fn: () => T | Promise<T>;
  #state: TimerState = 'created';
  #task: Task<T | undefined> | undefined;
  #abort: AbortController | undefined;

  /** A timer that will run `fn` `ms` milliseconds after `start()`. */
  constructor(ms: number, fn: () => T | Promise<T>, options?: TimerOptions) {
    if (!(typeof ms === 'number' && ms >= 0 && ms <= MAX_TIMER_MS)) {
      throw new TypeError(
        `Timer: ms must be a number from 0 to ${MAX_TIMER_MS}, got ${String(ms)}`,
      );
    }
    if (typeof fn !== 'function') throw new TypeError('Timer: fn must be a function');
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw new TypeError('Timer: options must be an object such as { name: "retry" }');
    }
    const name = options?.name;
    if (name !== undefined && typeof name !== 'string') {
      throw new TypeError(`Timer: name must be a string, got ${String(name)}`);
    }
    this.name = name ?? `timer ${++count.n}`;
    this.delay = ms;
    this.#fn = fn;
  }

  /** Where it is: not started, waiting, running its function, ended, or cancelled. */
  get state(): TimerState {
    return this.#state;
  }

  /**
   * Starts the delay, in a task of its own whose parent is the caller. A timer starts once: a
   * second `start()` throws LockMisuseError, as Python's does, except that starting a timer
   * cancelled before it was started does nothing (there is nothing left to run). Returns the
   * timer, so that `new Timer(ms, fn).start()` keeps it.
   */
  start(): this {
    if (this.#state === 'cancelled' && this.#task === undefined) return this;
    if (this.#state !== 'created') {
      throw new LockMisuseError(`${this.name}.start(): a timer can be started only once`);
    }
    this.#state = 'waiting';
    const abort = (this.#abort = new AbortController());
    this.#task = new Task(this.name, () => this.#run(abort.signal));
    return this;
  }

  /** The task's body: the delay, then the function unless it was cancelled meanwhile. */
  async #run(signal: AbortSignal): Promise<T | undefined> {
    try {
      await sleep(this.delay, { signal });
    } catch (err) {
      if (this.#state === 'cancelled') return undefined;
      throw err;
    }
    // A cancel() that came after the delay ended but before this continuation ran still wins:
    // the timer fires when its function is called, not when its sleep resolves.
    if (this.#state === 'cancelled') return undefined;
    this.#state = 'running';
    try {
      const value = await this.#fn();
      this.#state = 'returned';
      return value;
    } catch (err) {
      this.#state = 'threw';
      throw err;
    }
  }

  /**
   * Stops the timer if it has not fired yet: its function will not run, and its task ends at
   * once. Returns true if this call cancelled it, false if it had already fired, ended or been
   * cancelled (then it has no effect).
   */
  cancel(): boolean {
    if (this.#state !== 'created' && this.#state !== 'waiting') return false;
    this.#state = 'cancelled';
    this.#abort?.abort();
    return true;
  }

  /**
   * Waits until the timer has fired and its function has ended, and resolves to what the
   * function returned (or rejects with what it threw); resolves to undefined at once when the
   * timer was cancelled. The wait is the task's join, with a timeout or signal as `options`
   * say. Joining a timer never started throws LockMisuseError, since it could never end.
   */
  join(options?: BlockOptions): Promise<T | undefined> {
    if (options !== undefined) checkOptions(options, `${this.name}.join()`);
    if (this.#state === 'cancelled') return Promise.resolve(undefined);
    if (this.#task === undefined) {
      throw new LockMisuseError(`${this.name}.join(): the timer was never started (start() it)`);
    }
    return this.#task.join(options);
  }
}
