import { LockMisuseError } from '../errors.js';
import { currentFlow } from '../identity.js';
import {
  Misuse,
  Op,
  newResource,
  siteFor,
  siteForOther,
  sync,
  type ResourceOptions,
} from '../sync.js';
import { checkOptions, Waiter, type BlockOptions } from '../waiting.js';
import { block, rejectIfAborted } from './begin.js';
import { Queued } from './base.js';
import { gated, mustGate } from '../explore/hooks.js';

/** Go's sync.WaitGroup: wait until a counter of outstanding work returns to zero. */
export class WaitGroup extends Queued<void, undefined> {
  #count = 0;

  /** A wait group at count 0. */
  constructor(options?: ResourceOptions) {
    super(newResource('waitgroup', options));
  }

  /** Work not yet done: the sum of `add()`s minus the `done()`s. */
  get count(): number {
    return this.#count;
  }

  /** Adds `n` to the count. */
  add(n = 1): void {
    if (!Number.isSafeInteger(n)) {
      throw new TypeError(`${this.resource.name}.add(): n must be an integer, got ${String(n)}`);
    }
    const flow = currentFlow();
    if (this.#count + n < 0) {
      sync(Op.misuse, flow, this.resource, 0, Misuse.overRelease);
      throw new LockMisuseError(`${this.resource.name}: counter would become negative`);
    }
    this.#count += n;
    sync(Op.add, flow, this.resource, siteForOther(), n);
    if (this.#count === 0) {
      for (let w = this.waiters.shift(); w; w = this.waiters.shift()) {
        if (w.grant(undefined)) sync(Op.wake, w.flow, this.resource, w.site);
      }
    }
  }

  /** Takes 1 from the count; at 0 the waiters wake. */
  done(): void {
    this.add(-1);
  }

  /** Waits until the count is 0. Rejects with a TimeoutError or AbortError per `options`. */
  wait(options?: BlockOptions): Promise<void> {
    if (options !== undefined) checkOptions(options, `${this.resource.name}.wait()`);
    if (mustGate()) return gated(this.resource, 'wait', () => this.wait(options));
    const flow = currentFlow();
    const site = siteFor(this.resource, flow, this.#count !== 0);
    const aborted = rejectIfAborted(options, flow, this.resource, site, 'wait');
    if (aborted) return aborted;
    if (this.#count === 0) return Promise.resolve();
    return block(
      new Waiter<void, undefined>(flow, site, undefined),
      this.waiters,
      this.resource,
      options,
      'wait',
      Op.wait,
    );
  }
}
