/**
 * What the async primitives share: the resource record the probe reports them by, their name,
 * the queue of tasks waiting on them and, for those that grant holds, `runExclusive`. The
 * shared-memory primitives have theirs in shared/handle.ts.
 */
import { rt, type Flow, type ResourceRec } from '../runtime.js';
import { Op } from '../sync.js';
import { isBounded, Waiter, WaitList, type BlockOptions } from '../waiting.js';
import { block } from './begin.js';
import { judgeWait, type Blocker } from './fail-fast.js';
import { Guard, RELEASE, type Hold } from './guard.js';

export abstract class Primitive {
  /** @internal */
  readonly resource: ResourceRec;

  protected constructor(resource: ResourceRec) {
    this.resource = resource;
  }

  /** The name findings give it. */
  get name(): string {
    return this.resource.name;
  }
}

/** A primitive with one queue of waiting tasks, each waiter carrying `D` and woken with `R`. */
export abstract class Queued<R, D> extends Primitive {
  /** @internal */
  protected readonly waiters = new WaitList<R, D>();

  /** Tasks waiting on it now. */
  get waiting(): number {
    return this.waiters.size;
  }
}

/** A primitive that grants holds through guards: a lock, or a semaphore's permit. */
export abstract class Holdable<R, D> extends Queued<R, D> {
  /** Waits for a hold and returns the guard that ends it. */
  abstract acquire(options?: BlockOptions): Promise<Guard>;

  /** Runs `fn` while holding it, and lets go however `fn` ends. */
  async runExclusive<T>(fn: () => T | Promise<T>, options?: BlockOptions): Promise<T> {
    const guard = await this.acquire(options);
    try {
      return await fn();
    } finally {
      guard.release();
    }
  }
}

/** A lock one task holds at a time (Mutex, ReentrantMutex): its queue is judged by fail-fast. */
export abstract class ExclusiveLock extends Holdable<Hold, Hold> {
  /** @internal */
  abstract [RELEASE](hold: Hold): void;

  /** @internal */
  abstract blockersOf(): Iterable<Blocker>;

  /**
   * Queues `flow` for the lock and returns its guard once granted. A wait that may give up (a
   * timeout, a signal) is not judged by fail-fast, nor followed by others.
   * @internal
   */
  protected queue(flow: Flow, site: number, options: BlockOptions | undefined): Promise<Guard> {
    const hold: Hold = { flow, site, released: false, n: 1 };
    const waiter = new Waiter<Hold, Hold>(flow, site, hold);
    const granted = block(waiter, this.waiters, this.resource, options, 'acquire', Op.request);
    if (rt.config.failFast && !waiter.done && !isBounded(options)) {
      // eslint-disable-next-line @typescript-eslint/unbound-method -- a mark in the stack, not called.
      judgeWait(flow, this, waiter, granted, { mode: 1, site, call: this.acquire });
    }
    return granted.then((h) => new Guard(this, h));
  }
}
