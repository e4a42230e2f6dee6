import { currentFlow } from '../identity.js';
import { Op, newResource, siteFor, siteForOther, sync, type ResourceOptions } from '../sync.js';
import { checkOptions, Waiter, type BlockOptions } from '../waiting.js';
import { block, rejectIfAborted } from './begin.js';
import { Queued } from './base.js';
import { gated, mustGate } from '../explore/hooks.js';

/** A flag tasks can wait for (Python's threading.Event). */
export class Event extends Queued<void, undefined> {
  #set = false;

  /** An event, not set. */
  constructor(options?: ResourceOptions) {
    super(newResource('event', options));
  }

  /** True once `set()` was called, until `clear()`. */
  get isSet(): boolean {
    return this.#set;
  }

  /** Sets the flag and wakes every waiter. */
  set(): void {
    const flow = currentFlow();
    this.#set = true;
    sync(Op.set, flow, this.resource, siteForOther(), this.waiters.size);
    for (let w = this.waiters.shift(); w; w = this.waiters.shift()) {
      if (w.grant(undefined)) sync(Op.wake, w.flow, this.resource, w.site);
    }
  }

  /** Unsets it: later `wait()` calls wait again. */
  clear(): void {
    this.#set = false;
    sync(Op.clear, currentFlow(), this.resource, siteForOther());
  }

  /** Resolves once the flag is set (at once if it is). */
  wait(options?: BlockOptions): Promise<void> {
    if (options !== undefined) checkOptions(options, `${this.resource.name}.wait()`);
    if (mustGate()) return gated(this.resource, 'wait', () => this.wait(options));
    const flow = currentFlow();
    const site = siteFor(this.resource, flow, !this.#set);
    const aborted = rejectIfAborted(options, flow, this.resource, site, 'wait');
    if (aborted) return aborted;
    if (this.#set) return Promise.resolve();
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
