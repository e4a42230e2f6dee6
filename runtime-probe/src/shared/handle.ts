/**
 * Shared-memory primitives cross threads as plain data: `postMessage` and `workerData` clone
 * objects without their classes, but share a SharedArrayBuffer. So each shared primitive has a
 * handle, a plain object with a kind tag, its buffer, name and resource id, from which any thread
 * makes a working instance again (`SharedMutex.from(handle)`).
 */
import { TimeoutError } from '../errors.js';
import type { Flow, ResourceRec } from '../runtime.js';
import { newResource, Op, sync, type OpCode, type ResourceOptions } from '../sync.js';
import { isBounded, MAX_TIMER_MS, type BlockOptions } from '../waiting.js';
import { clock } from '../clock.js';

export interface SharedHandle {
  lockscopeShared: string;
  buffer: SharedArrayBuffer;
  id: number;
  name: string;
  cls: string;
}

export function isHandle(value: unknown, kind: string): value is SharedHandle {
  if (typeof value !== 'object' || value === null) return false;
  const h = value as Partial<SharedHandle>;
  return (
    h.lockscopeShared === kind &&
    h.buffer instanceof SharedArrayBuffer &&
    typeof h.id === 'number' &&
    typeof h.name === 'string' &&
    typeof h.cls === 'string'
  );
}

/** The resource record for a new shared primitive, or the one its handle describes. */
export function sharedResource(
  kind: string,
  options: ResourceOptions | undefined,
  handle: SharedHandle | undefined,
  capacity?: number,
): ResourceRec {
  if (!handle) return newResource(kind, options, capacity);
  return {
    id: handle.id,
    kind,
    name: handle.name,
    cls: handle.cls,
    site: 0,
    capacity,
    policy: undefined,
    sentIn: -1,
  };
}

/** A handle that keeps the event loop alive while an Atomics.waitAsync is pending. */
export function keepAlive(): () => void {
  const timer = clock.setInterval(() => {}, 2 ** 31 - 1);
  return () => clock.clearInterval(timer);
}

/**
 * What every shared primitive has: its state in a SharedArrayBuffer seen as 32-bit words, a
 * resource record, a handle for other threads, and the arithmetic of timeouts.
 */
export abstract class SharedPrimitive {
  /** @internal */
  abstract readonly resource: ResourceRec;
  protected readonly buffer: SharedArrayBuffer;
  protected readonly words: Int32Array;

  protected constructor(
    private readonly kind: string,
    words: number,
    handle: SharedHandle | undefined,
  ) {
    this.buffer = handle?.buffer ?? new SharedArrayBuffer(words * 4);
    this.words = new Int32Array(this.buffer, 0, words);
  }

  /** Plain data to send to another thread, where `from(handle)` makes it work again. */
  get handle(): SharedHandle {
    return {
      lockscopeShared: this.kind,
      buffer: this.buffer,
      id: this.resource.id,
      name: this.resource.name,
      cls: this.resource.cls,
    };
  }

  /** The name findings give it. */
  get name(): string {
    return this.resource.name;
  }

  /** When a wait of `timeout` ms started now ends (Infinity: never). */
  protected deadline(timeout: number | undefined): number {
    return timeout !== undefined && timeout <= MAX_TIMER_MS ? clock.now() + timeout : Infinity;
  }

  /**
   * Milliseconds left before `deadline` (undefined: no limit). Once none are left, it records
   * the timeout, runs `giveUp`, and throws TimeoutError.
   */
  protected timeLeft(
    flow: Flow,
    site: number,
    method: string,
    timeout: number | undefined,
    deadline: number,
    giveUp?: () => void,
  ): number | undefined {
    if (deadline === Infinity) return undefined;
    const left = deadline - clock.now();
    if (left > 0) return left;
    sync(Op.timeout, flow, this.resource, site, timeout);
    giveUp?.();
    throw new TimeoutError(
      `${this.resource.name}.${method}() timed out after ${timeout} ms`,
      timeout ?? 0,
    );
  }
}

/** The op of a shared lock's request: bounded when it may give up (see `isBounded`). */
export function requestOp(options: BlockOptions | undefined): OpCode {
  return isBounded(options) ? Op.requestBounded : Op.request;
}

/** A SharedMutex handle's `onOwnerDead` policy; anything but `error` recovers. */
export function ownerDeadPolicy(handle: SharedHandle): 'recover' | 'error' {
  const policy = (handle as SharedHandle & { onOwnerDead?: unknown }).onOwnerDead;
  return policy === 'error' ? 'error' : 'recover';
}
