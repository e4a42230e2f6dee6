/**
 * Blocking calls: a FIFO list of waiters and the timeout and abort handling every primitive
 * shares. A waiter settles exactly once, whichever comes first of being granted, timing out or
 * being aborted; the loser is a no-op.
 */
import { AbortError, TimeoutError, abortErrorFor } from './errors.js';
import type { Flow, ResourceRec } from './runtime.js';
import { Op, sync } from './sync.js';
import { startTimeout } from './explore/hooks.js';

/** The longest delay a Node timer supports; a longer timeout is treated as no timeout. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Whether a wait with these options may end without being granted (a timeout, a signal). */
export function isBounded(options: BlockOptions | undefined): boolean {
  if (!options) return false;
  const { timeout, signal } = options;
  return (timeout !== undefined && timeout <= MAX_TIMER_MS) || signal !== undefined;
}

/** Options every blocking call takes. */
export interface BlockOptions {
  /**
   * Milliseconds to wait before rejecting with TimeoutError; 0 means do not wait at all. Values
   * beyond about 24.8 days (2^31 - 1 ms, the limit of Node's timers) mean no timeout.
   */
  timeout?: number;
  /** Rejects with an AbortError (its `cause` is the signal's reason) when the signal aborts. */
  signal?: AbortSignal;
}

/** Checks options where they enter, so a typo fails at the call rather than hanging. */
export function checkOptions(options: BlockOptions | undefined, what: string): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${what}: options must be an object such as { timeout: 1000 }`);
  }
  const { timeout, signal } = options;
  if (
    timeout !== undefined &&
    !(typeof timeout === 'number' && timeout >= 0 && timeout === timeout)
  ) {
    throw new TypeError(
      `${what}: timeout must be a number of milliseconds >= 0, got ${String(timeout)}`,
    );
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`${what}: signal must be an AbortSignal`);
  }
}

export class Waiter<T, D = undefined> {
  next: Waiter<T, D> | undefined = undefined;
  prev: Waiter<T, D> | undefined = undefined;
  list: WaitList<T, D> | undefined = undefined;
  done = false;
  private resolveFn: ((value: T) => void) | undefined;
  private rejectFn: ((reason: unknown) => void) | undefined;
  private cancelTimer: (() => void) | undefined;
  private signal: AbortSignal | undefined;
  private onAbort: (() => void) | undefined;

  constructor(
    readonly flow: Flow,
    readonly site: number,
    public data: D,
  ) {}

  /**
   * Starts waiting: returns the promise the caller awaits. `giveUp` runs after a timeout or an
   * abort has removed the waiter, so the primitive can react (a barrier breaks, a read-write lock
   * lets readers in after a writer gave up).
   */
  start(
    res: ResourceRec,
    options: BlockOptions | undefined,
    what: string,
    giveUp?: (w: Waiter<T, D>, reason: 'timeout' | 'cancel') => void,
  ): Promise<T> {
    this.flow.blocked = true;
    const promise = new Promise<T>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    const timeout = options?.timeout;
    if (timeout !== undefined && timeout <= MAX_TIMER_MS) {
      this.cancelTimer = startTimeout(this.flow, this.site, timeout, () => {
        if (this.done) return;
        this.finish();
        sync(Op.timeout, this.flow, res, this.site, timeout);
        this.rejectFn!(new TimeoutError(`${what} timed out after ${timeout} ms`, timeout));
        giveUp?.(this, 'timeout');
      });
    }
    const signal = options?.signal;
    if (signal) {
      this.signal = signal;
      this.onAbort = () => {
        if (this.done) return;
        this.finish();
        sync(Op.cancel, this.flow, res, this.site);
        this.rejectFn!(abortErrorFor(signal, what));
        giveUp?.(this, 'cancel');
      };
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
    return promise;
  }

  private finish(): void {
    this.done = true;
    this.flow.blocked = false;
    this.list?.remove(this);
    this.cancelTimer?.();
    if (this.signal && this.onAbort) this.signal.removeEventListener('abort', this.onAbort);
  }

  /** Grants the wait. Returns false if the waiter had already settled. */
  grant(value: T): boolean {
    if (this.done) return false;
    this.finish();
    this.resolveFn!(value);
    return true;
  }

  /** Fails the wait with `error`. Returns false if the waiter had already settled. */
  fail(error: unknown): boolean {
    if (this.done) return false;
    this.finish();
    this.rejectFn!(error);
    return true;
  }
}

/** An intrusive doubly linked FIFO list: O(1) push, shift and removal from the middle. */
export class WaitList<T, D = undefined> {
  head: Waiter<T, D> | undefined = undefined;
  tail: Waiter<T, D> | undefined = undefined;
  size = 0;

  push(w: Waiter<T, D>): void {
    w.list = this;
    w.prev = this.tail;
    w.next = undefined;
    if (this.tail) this.tail.next = w;
    else this.head = w;
    this.tail = w;
    this.size++;
  }

  remove(w: Waiter<T, D>): void {
    if (w.list !== this) return;
    if (w.prev) w.prev.next = w.next;
    else this.head = w.next;
    if (w.next) w.next.prev = w.prev;
    else this.tail = w.prev;
    w.prev = w.next = undefined;
    w.list = undefined;
    this.size--;
  }

  shift(): Waiter<T, D> | undefined {
    const w = this.head;
    if (w) this.remove(w);
    return w;
  }

  *[Symbol.iterator](): IterableIterator<Waiter<T, D>> {
    for (let w = this.head; w;) {
      const next = w.next;
      yield w;
      w = next;
    }
  }
}

/** The rejection for a call whose signal was aborted before it started. */
export function alreadyAborted(signal: AbortSignal, what: string): AbortError {
  return abortErrorFor(signal, what);
}

/** The rejection for `timeout: 0` when the call cannot complete at once. */
export function immediateTimeout(what: string): TimeoutError {
  return new TimeoutError(`${what} could not complete at once (timeout: 0)`, 0);
}
