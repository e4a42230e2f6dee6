import { ChannelClosedError, LockMisuseError } from '../errors.js';
import { currentFlow } from '../identity.js';
import type { Flow } from '../runtime.js';
import {
  Misuse,
  Op,
  newResource,
  siteFor,
  siteForBlocking,
  siteForOther,
  sync,
  type ResourceOptions,
} from '../sync.js';
import { WAIT_JOIN, WAIT_RECV, WAIT_SEND } from '../protocol.js';
import { checkOptions, WaitList, Waiter, type BlockOptions } from '../waiting.js';
import { block, rejectIfAborted } from './begin.js';
import { Primitive } from './base.js';
import { gated, mustGate } from '../explore/hooks.js';

/**
 * What a receive gives: Go's comma-ok. `ok` is false only when the channel is closed and drained
 * (or, for tryRecv, when nothing is ready).
 */
export type RecvResult<T> = { ok: true; value: T } | { ok: false; value: undefined };

const CLOSED: RecvResult<never> = Object.freeze({ ok: false, value: undefined });

/** A party waiting inside select(): settles the whole select when one of its cases fires. */
export interface SelectCaseRef {
  /** Claims the select for case `index`; false if another case already fired. */
  claim(index: number): boolean;
  finish(index: number, ok: boolean, value: unknown): void;
  fail(error: Error): void;
  index: number;
}

interface RecvData {
  sel: SelectCaseRef | undefined;
}

interface SendData<T> {
  value: T;
  sel: SelectCaseRef | undefined;
}

/**
 * A channel between tasks, with Go's semantics:
 * - `capacity` 0 is a rendezvous: `send` resolves only when a receiver has taken the value
 *   (unlike Python's `Queue(0)`, which is unbounded);
 * - `recv` on a closed channel drains the buffer first, then resolves `{ ok: false }` at once;
 * - `send` on a closed channel rejects with ChannelClosedError, and closing wakes every blocked
 *   receiver with `{ ok: false }` and rejects every blocked sender;
 * - closing twice throws ChannelClosedError;
 * - `for await (const v of channel)` receives until the channel is closed and drained.
 *
 * It is also Python's JoinableQueue: a receiver calls `taskDone()` once it has finished with each
 * value, and `join()` waits until every value ever sent has been marked done, so that a producer
 * can wait for the work, not only for the hand-over. Channels that never use them pay two
 * counter increments per value.
 */
export class Channel<T> extends Primitive implements AsyncIterable<T> {
  /** How many values it buffers (0: every send waits for a receiver). */
  readonly capacity: number;
  #buf: T[] = [];
  #head = 0;
  #closed = false;
  readonly #recvq = new WaitList<RecvResult<T>, RecvData>();
  readonly #sendq = new WaitList<void, SendData<T>>();
  /** Values sent and not yet marked done: join() waits for it to reach 0. */
  #unfinished = 0;
  /** Values received and not yet marked done: what taskDone() may still mark. */
  #undone = 0;
  readonly #joiners = new WaitList<void, undefined>();

  /** A channel that buffers `capacity` values. */
  constructor(capacity = 0, options?: ResourceOptions) {
    if (!(Number.isSafeInteger(capacity) && capacity >= 0) && capacity !== Infinity) {
      throw new TypeError(
        `Channel: capacity must be an integer >= 0 or Infinity, got ${String(capacity)}`,
      );
    }
    super(
      newResource('channel', options, capacity, capacity === Infinity ? 'unbounded' : undefined),
    );
    this.capacity = capacity;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Values buffered now. */
  get length(): number {
    return this.#buf.length - this.#head;
  }

  /** Tasks blocked in send and in recv. */
  get blockedSenders(): number {
    return this.#sendq.size;
  }

  /** Receivers waiting for a value. */
  get blockedReceivers(): number {
    return this.#recvq.size;
  }

  /** Tasks waiting in `join()`. */
  get blockedJoiners(): number {
    return this.#joiners.size;
  }

  /** Values sent and not yet marked done with `taskDone()`: `join()` waits while it is above 0. */
  get unfinished(): number {
    return this.#unfinished;
  }

  // Readiness and the non-blocking halves are shared by send/recv, try*, and select().

  /**
   * True when a send could complete at once (or fail at once, if closed).
   * @internal
   */
  canSend(): boolean {
    return this.#closed || this.#peekReceiver() || this.length < this.capacity;
  }

  /**
   * True when a receive could complete at once.
   * @internal
   */
  canRecv(): boolean {
    return this.length > 0 || this.#peekSender() || this.#closed;
  }

  #peekReceiver(): boolean {
    return this.#recvq.size > 0;
  }

  #peekSender(): boolean {
    return this.#sendq.size > 0;
  }

  /**
   * Completes a send that canSend() said was ready; returns the error to raise if the
   * channel is closed.
   * @internal
   */
  sendNow(flow: Flow, site: number, value: T): ChannelClosedError | undefined {
    if (this.#closed) {
      sync(Op.error, flow, this.resource, site);
      return new ChannelClosedError(`send on closed channel ${this.resource.name}`);
    }
    sync(Op.send, flow, this.resource, site);
    this.#unfinished++;
    for (let w = this.#recvq.shift(); w; w = this.#recvq.shift()) {
      if (this.#deliverRecv(w, { ok: true, value })) return undefined;
    }
    this.#buf.push(value);
    return undefined;
  }

  /**
   * Completes a receive that canRecv() said was ready.
   * @internal
   */
  recvNow(flow: Flow, site: number): RecvResult<T> {
    if (this.length > 0) {
      const value = this.#buf[this.#head]!;
      this.#buf[this.#head] = undefined as T;
      this.#head++;
      if (this.#head > 1024 && this.#head * 2 > this.#buf.length) {
        this.#buf = this.#buf.slice(this.#head);
        this.#head = 0;
      }
      sync(Op.receive, flow, this.resource, site);
      this.#undone++;
      // A blocked sender can now move its value into the freed slot.
      for (let w = this.#sendq.shift(); w; w = this.#sendq.shift()) {
        const v = this.#takeSender(w);
        if (v !== NOTHING) {
          this.#buf.push(v);
          break;
        }
      }
      return { ok: true, value };
    }
    for (let w = this.#sendq.shift(); w; w = this.#sendq.shift()) {
      const v = this.#takeSender(w);
      if (v !== NOTHING) {
        sync(Op.receive, flow, this.resource, site);
        this.#undone++;
        return { ok: true, value: v };
      }
    }
    sync(Op.receive, flow, this.resource, site, -1);
    return CLOSED;
  }

  /**
   * Wakes a blocked receiver with a value, or with `{ ok: false }` when the channel closes. Either
   * way its wait ends with a `receive` event (n -1: woken by close), as every wait must.
   */
  #deliverRecv(w: Waiter<RecvResult<T>, RecvData>, result: RecvResult<T>): boolean {
    const sel = w.data.sel;
    if (sel) {
      if (!sel.claim(sel.index)) return false;
      sync(Op.receive, w.flow, this.resource, w.site, result.ok ? 0 : -1);
      sel.finish(sel.index, result.ok, result.value);
    } else {
      if (!w.grant(result)) return false;
      sync(Op.receive, w.flow, this.resource, w.site, result.ok ? 0 : -1);
    }
    if (result.ok) this.#undone++;
    return true;
  }

  /** Takes a blocked sender's value, which the channel then counts as sent. */
  #takeSender(w: Waiter<void, SendData<T>>): T | typeof NOTHING {
    const sel = w.data.sel;
    if (sel) {
      if (!sel.claim(sel.index)) return NOTHING;
      sync(Op.send, w.flow, this.resource, w.site);
      sel.finish(sel.index, true, undefined);
    } else {
      if (!w.grant(undefined)) return NOTHING;
      sync(Op.send, w.flow, this.resource, w.site);
    }
    this.#unfinished++;
    return w.data.value;
  }

  /**
   * Registers a select case as a blocked receiver.
   * @internal
   */
  parkReceiver(flow: Flow, site: number, sel: SelectCaseRef): Waiter<RecvResult<T>, RecvData> {
    const w = new Waiter<RecvResult<T>, RecvData>(flow, site, { sel });
    this.#recvq.push(w);
    sync(Op.wait, flow, this.resource, site, WAIT_RECV);
    return w;
  }

  /**
   * Registers a select case as a blocked sender.
   * @internal
   */
  parkSender(flow: Flow, site: number, value: T, sel: SelectCaseRef): Waiter<void, SendData<T>> {
    const w = new Waiter<void, SendData<T>>(flow, site, { value, sel });
    this.#sendq.push(w);
    sync(Op.wait, flow, this.resource, site, WAIT_SEND);
    return w;
  }

  /**
   * Sends `value`, waiting while the buffer is full (or, unbuffered, for a receiver). Rejects with
   * a ChannelClosedError once it is closed.
   */
  send(value: T, options?: BlockOptions): Promise<void> {
    if (options !== undefined) checkOptions(options, `${this.resource.name}.send()`);
    if (mustGate()) return gated(this.resource, 'send', () => this.send(value, options));
    const flow = currentFlow();
    const ready = this.canSend();
    const site = siteFor(this.resource, flow, !ready);
    const aborted = rejectIfAborted(options, flow, this.resource, site, 'send');
    if (aborted) return aborted;
    if (ready) {
      const closed = this.sendNow(flow, site, value);
      return closed ? Promise.reject(closed) : Promise.resolve();
    }
    const w = new Waiter<void, SendData<T>>(flow, site, { value, sel: undefined });
    return block(w, this.#sendq, this.resource, options, 'send', Op.wait, WAIT_SEND);
  }

  /**
   * Receives the next value, waiting for one; after `close()` and the buffer drained, resolves to
   * `{ ok: false }`.
   */
  recv(options?: BlockOptions): Promise<RecvResult<T>> {
    if (options !== undefined) checkOptions(options, `${this.resource.name}.recv()`);
    if (mustGate()) return gated(this.resource, 'recv', () => this.recv(options));
    const flow = currentFlow();
    const ready = this.canRecv();
    const site = siteFor(this.resource, flow, !ready);
    const aborted = rejectIfAborted(options, flow, this.resource, site, 'recv');
    if (aborted) return aborted;
    if (ready) return Promise.resolve(this.recvNow(flow, site));
    const w = new Waiter<RecvResult<T>, RecvData>(flow, site, { sel: undefined });
    return block(w, this.#recvq, this.resource, options, 'recv', Op.wait, WAIT_RECV);
  }

  /** Sends at once if a receiver waits or the buffer has room; false otherwise. Throws if closed. */
  trySend(value: T): boolean {
    const flow = currentFlow();
    const site = siteForOther();
    if (!this.canSend()) {
      sync(Op.tryFailed, flow, this.resource, site, WAIT_SEND);
      return false;
    }
    const closed = this.sendNow(flow, site, value);
    if (closed) throw closed;
    return true;
  }

  /** Receives at once if a value is ready; `{ ok: false }` otherwise (check `closed` to tell). */
  tryRecv(): RecvResult<T> {
    const flow = currentFlow();
    const site = siteForOther();
    if (!this.canRecv()) {
      sync(Op.tryFailed, flow, this.resource, site, WAIT_RECV);
      return CLOSED;
    }
    return this.recvNow(flow, site);
  }

  /**
   * Closes it: waiting and later receivers get `{ ok: false }` once the buffer is drained, and
   * senders a ChannelClosedError.
   */
  close(): void {
    const flow = currentFlow();
    if (this.#closed) {
      sync(Op.error, flow, this.resource, 0);
      throw new ChannelClosedError(`close of closed channel ${this.resource.name}`);
    }
    this.#closed = true;
    sync(Op.close, flow, this.resource, siteForOther());
    for (let w = this.#recvq.shift(); w; w = this.#recvq.shift()) this.#deliverRecv(w, CLOSED);
    for (let w = this.#sendq.shift(); w; w = this.#sendq.shift()) {
      const err = new ChannelClosedError(`channel ${this.resource.name} was closed while sending`);
      const sel = w.data.sel;
      if (sel ? sel.claim(sel.index) && (sel.fail(err), true) : w.fail(err)) {
        sync(Op.error, w.flow, this.resource, w.site);
      }
    }
  }

  /**
   * Marks one received value as done (Python's `task_done()`): call it once for each value a
   * task has received and finished with, in a `finally` so that a failure still counts. When
   * every value sent has been marked done, the tasks waiting in `join()` wake. Calling it more
   * times than values were received throws LockMisuseError (and is recorded as a misuse): the
   * count would otherwise let `join()` return while work is still under way.
   */
  taskDone(): void {
    const flow = currentFlow();
    if (this.#undone === 0) {
      sync(Op.misuse, flow, this.resource, siteForBlocking(), Misuse.extraTaskDone);
      throw new LockMisuseError(
        `${this.resource.name}.taskDone() was called more times than values were received`,
      );
    }
    this.#undone--;
    this.#unfinished--;
    sync(Op.add, flow, this.resource, siteForOther(), -1);
    if (this.#unfinished > 0) return;
    for (let w = this.#joiners.shift(); w; w = this.#joiners.shift()) {
      if (w.grant(undefined)) sync(Op.wake, w.flow, this.resource, w.site);
    }
  }

  /**
   * Waits until every value ever sent has been marked done with `taskDone()` (Python's
   * `JoinableQueue.join()`); resolves at once when none is unfinished. Closing the channel does
   * not end the wait: values still buffered can be received and marked done after a close.
   * Rejects with a TimeoutError or AbortError per `options`.
   */
  join(options?: BlockOptions): Promise<void> {
    if (options !== undefined) checkOptions(options, `${this.resource.name}.join()`);
    if (mustGate()) return gated(this.resource, 'join', () => this.join(options));
    const flow = currentFlow();
    const waits = this.#unfinished > 0;
    const site = siteFor(this.resource, flow, waits);
    const aborted = rejectIfAborted(options, flow, this.resource, site, 'join');
    if (aborted) return aborted;
    if (!waits) return Promise.resolve();
    const w = new Waiter<void, undefined>(flow, site, undefined);
    return block(w, this.#joiners, this.resource, options, 'join', Op.wait, WAIT_JOIN);
  }

  /** Receives values until the channel is closed and drained (`for await`). */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const r = await this.recv();
      if (!r.ok) return;
      yield r.value;
    }
  }
}

const NOTHING: unique symbol = Symbol('nothing');
