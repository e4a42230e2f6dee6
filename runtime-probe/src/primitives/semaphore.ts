import { LockMisuseError } from '../errors.js';
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
import { checkOptions, Waiter, type BlockOptions } from '../waiting.js';
import { block, rejectIfAborted } from './begin.js';
import { Guard, RELEASE, type Hold } from './guard.js';
import { Holdable } from './base.js';
import { gated, mustGate } from '../explore/hooks.js';

/** Options of a Semaphore. */
export interface SemaphoreOptions extends ResourceOptions {
  /**
   * A bounded semaphore (Python's BoundedSemaphore) throws LockMisuseError when released beyond
   * its initial permits, which catches a release without a matching acquire.
   */
  bounded?: boolean;
}

/**
 * A counting semaphore, FIFO. `acquire()` resolves to a guard that gives its permit back;
 * `release()` adds a permit without a guard, for semaphores used as signals between tasks.
 * `new Semaphore(1)` is a binary semaphore.
 */
export class Semaphore extends Holdable<Hold, Hold> {
  /** Whether releasing more permits than it started with is a misuse (a bounded semaphore). */
  readonly bounded: boolean;
  /** The permits it started with. */
  readonly initial: number;
  #permits: number;

  /** A semaphore with `permits` permits. */
  constructor(permits: number, options?: SemaphoreOptions) {
    if (!Number.isSafeInteger(permits) || permits < 0) {
      throw new TypeError(`Semaphore: permits must be an integer >= 0, got ${String(permits)}`);
    }
    const bounded = options?.bounded ?? false;
    super(newResource('semaphore', options, permits, bounded ? 'bounded' : undefined));
    this.initial = permits;
    this.#permits = permits;
    this.bounded = bounded;
  }

  /** Permits available now. */
  get value(): number {
    return this.#permits;
  }

  /**
   * Waits for a permit, in FIFO order, and returns the guard that gives it back. Rejects with a
   * TimeoutError or AbortError per `options`.
   */
  acquire(options?: BlockOptions): Promise<Guard> {
    if (options !== undefined) checkOptions(options, `${this.resource.name}.acquire()`);
    if (mustGate()) return gated(this.resource, 'acquire', () => this.acquire(options));
    const flow = currentFlow();
    const free = this.#permits > 0 && this.waiters.size === 0;
    const site = siteFor(this.resource, flow, !free);
    const aborted = rejectIfAborted(options, flow, this.resource, site, 'acquire');
    if (aborted) return aborted;
    if (free) return Promise.resolve(this.#grant(flow, site));
    const hold: Hold = { flow, site, released: false, n: 1 };
    return block(
      new Waiter<Hold, Hold>(flow, site, hold),
      this.waiters,
      this.resource,
      options,
      'acquire',
      Op.request,
      1,
    ).then((granted) => new Guard(this, granted));
  }

  /** Takes a permit at once if one is free and nobody waits; otherwise returns undefined. */
  tryAcquire(): Guard | undefined {
    const flow = currentFlow();
    const site = siteForOther();
    if (this.#permits > 0 && this.waiters.size === 0) return this.#grant(flow, site, true);
    sync(Op.tryFailed, flow, this.resource, site || siteForBlocking(), 1);
    return undefined;
  }

  /** Adds `n` permits without a guard (signalling use). */
  release(n = 1): void {
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new TypeError(
        `${this.resource.name}.release(): n must be an integer >= 1, got ${String(n)}`,
      );
    }
    this.#give(currentFlow(), n);
  }

  /** `direct` for a try-acquisition, whose guard is returned as it is (see Guard). */
  #grant(flow: Flow, site: number, direct = false): Guard {
    this.#permits--;
    const hold: Hold = { flow, site, released: false, n: 1 };
    sync(Op.acquired, flow, this.resource, site, 1);
    return new Guard(this, hold, direct);
  }

  /** @internal */
  [RELEASE](hold: Hold): void {
    this.#give(hold.flow, 1);
  }

  #give(flow: Flow, n: number): void {
    if (this.bounded && this.#permits + n > this.initial) {
      sync(Op.misuse, flow, this.resource, 0, Misuse.overRelease);
      throw new LockMisuseError(
        `${this.resource.name} released beyond its ${this.initial} permits (bounded semaphore)`,
      );
    }
    this.#permits += n;
    sync(Op.released, flow, this.resource, 0, n);
    while (this.#permits > 0) {
      const w = this.waiters.shift();
      if (!w) return;
      this.#permits--;
      sync(Op.acquired, w.data.flow, this.resource, w.data.site, 1);
      if (!w.grant(w.data)) this.#permits++;
    }
  }
}
