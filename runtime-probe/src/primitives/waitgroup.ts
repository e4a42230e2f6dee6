import { LockMisuseError } from '../errors.js';
import { currentFlow } from '../identity.js';
import type { ResourceRec } from '../runtime.js';
import {
  Misuse,
  Op,
  newResource,
  siteForBlocking,
  siteForOther,
  sync,
  type ResourceOptions,
} from '../sync.js';
import { checkOptions, WaitList, Waiter, type BlockOptions } from '../waiting.js';
import { block, rejectIfAborted } from './begin.js';

/** Go's sync.WaitGroup: wait until a counter of outstanding work returns to zero. */
export class WaitGroup {
  readonly resource: ResourceRec;
  #count = 0;
  readonly #waiters = new WaitList<void, undefined>();

  constructor(options?: ResourceOptions) {
    this.resource = newResource('waitgroup', options);
  }

  get name(): string {
    return this.resource.name;
  }

  /** Tasks waiting for the count to reach zero. */
  get waiting(): number {
    return this.#waiters.size;
  }

  get count(): number {
    return this.#count;
  }

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
      for (let w = this.#waiters.shift(); w; w = this.#waiters.shift()) {
        if (w.grant(undefined)) sync(Op.wake, w.flow, this.resource, w.site);
      }
    }
  }

  done(): void {
    this.add(-1);
  }

  wait(options?: BlockOptions): Promise<void> {
    if (options !== undefined) checkOptions(options, `${this.resource.name}.wait()`);
    const flow = currentFlow();
    const site = siteForBlocking();
    const aborted = rejectIfAborted(options, flow, this.resource, site, 'wait');
    if (aborted) return aborted;
    if (this.#count === 0) return Promise.resolve();
    return block(
      new Waiter<void, undefined>(flow, site, undefined),
      this.#waiters,
      this.resource,
      options,
      'wait',
      Op.wait,
    );
  }
}
