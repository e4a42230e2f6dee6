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
import { alreadyAborted, checkOptions, WaitList, Waiter, type BlockOptions } from '../waiting.js';
import { block } from './begin.js';

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

  get count(): number {
    return this.#count;
  }

  add(n = 1): void {
    if (!Number.isSafeInteger(n)) {
      throw new TypeError(`${this.resource.name}.add(): n must be an integer, got ${String(n)}`);
    }
    const flow = currentFlow(false);
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
    const what = `${this.resource.name}.wait()`;
    if (options !== undefined) checkOptions(options, what);
    const flow = currentFlow(true);
    const site = siteForBlocking();
    if (options?.signal?.aborted) {
      sync(Op.cancel, flow, this.resource, site);
      return Promise.reject(alreadyAborted(options.signal, what));
    }
    if (this.#count === 0) return Promise.resolve();
    return block(
      new Waiter<void, undefined>(flow, site, undefined),
      this.#waiters,
      this.resource,
      options,
      what,
      Op.wait,
    );
  }
}
