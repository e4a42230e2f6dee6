import { currentFlow, resolved } from '../identity.js';
import { type Flow } from '../runtime.js';
import {
  Op,
  newResource,
  siteFor,
  siteForBlocking,
  siteForOther,
  sync,
  type OpCode,
  type ResourceOptions,
} from '../sync.js';
import { checkOptions, type BlockOptions } from '../waiting.js';
import { rejectIfAborted } from './begin.js';
import { type Blocker } from './fail-fast.js';
import { Guard, RELEASE, type Hold } from './guard.js';
import { probeMicrotask } from '../runs.js';
import { ExclusiveLock } from './base.js';
import { gated, mustGate } from '../explore/hooks.js';

/**
 * A re-entrant mutex (Python's RLock): the task that holds it may acquire it again, and it is
 * released when every guard taken has been released. Ownership follows task identity (see
 * identity.ts): it re-enters only for the flow that holds it.
 */
export class ReentrantMutex extends ExclusiveLock {
  #owner: Flow | undefined = undefined;
  #depth = 0;

  /**
   * A re-entrant mutex, free: the task that holds it may acquire it again, and must release it as
   * many times.
   */
  constructor(options?: ResourceOptions) {
    super(newResource('reentrant-mutex', options));
  }

  /** True while a task holds it. */
  get isLocked(): boolean {
    return this.#owner !== undefined;
  }

  /** How many times its holder has acquired it (0 when free). */
  get depth(): number {
    return this.#depth;
  }

  #isOwner(flow: Flow): boolean {
    return this.#owner !== undefined && resolved(this.#owner).id === resolved(flow).id;
  }

  /**
   * Acquires it (at once if the calling task already holds it) and returns a guard for this
   * acquisition. Rejects with a TimeoutError or AbortError per `options`, and under fail-fast with
   * a DeadlockError.
   */
  acquire(options?: BlockOptions): Promise<Guard> {
    if (options !== undefined) checkOptions(options, `${this.resource.name}.acquire()`);
    if (mustGate()) return gated(this.resource, 'acquire', () => this.acquire(options));
    const flow = currentFlow();
    // A re-entry captures too: its flow holds a lock (see siteFor).
    const site = siteFor(this.resource, flow, this.#owner !== undefined || this.waiters.size > 0);
    const aborted = rejectIfAborted(options, flow, this.resource, site, 'acquire');
    if (aborted) return aborted;
    if (this.#owner !== undefined && this.#isOwner(flow) && flow.alias) {
      // The caller acts provisionally as the owner: it may yet turn out to be a flow of its own
      // when this synchronous run ends (runs.ts). Granting re-entry now could let two flows in.
      return new Promise<void>((resolve) => probeMicrotask(resolve)).then(() =>
        this.#decide(flow, site, options),
      );
    }
    return this.#decide(flow, site, options);
  }

  #decide(flow: Flow, site: number, options: BlockOptions | undefined): Promise<Guard> {
    if (this.#owner === undefined ? this.waiters.size === 0 : this.#isOwner(flow)) {
      return Promise.resolve(this.#grant(flow, site));
    }
    return this.queue(flow, site, options);
  }

  /**
   * The flow that must release the mutex first, for fail-fast detection.
   * @internal
   */
  *blockersOf(): Iterable<Blocker> {
    if (this.#owner) yield { flow: this.#owner, ahead: false };
  }

  /**
   * Acquires at once if it is free or already held by the calling task; otherwise returns
   * undefined.
   */
  tryAcquire(): Guard | undefined {
    const flow = currentFlow();
    const site = siteForOther();
    if (this.#owner === undefined ? this.waiters.size === 0 : this.#isOwner(flow)) {
      return this.#grant(flow, site, Op.tryAcquired);
    }
    sync(Op.tryFailed, flow, this.resource, site || siteForBlocking());
    return undefined;
  }

  #grant(flow: Flow, site: number, op: OpCode = Op.acquired): Guard {
    if (this.#owner === undefined) this.#owner = flow;
    this.#depth++;
    const hold: Hold = { flow, site, released: false, n: this.#depth };
    sync(op, flow, this.resource, site, this.#depth);
    return new Guard(this, hold, op === Op.tryAcquired);
  }

  /** @internal */
  [RELEASE](hold: Hold): void {
    this.#depth--;
    sync(Op.released, hold.flow, this.resource, 0, this.#depth);
    if (this.#depth > 0) return;
    this.#owner = undefined;
    for (;;) {
      const w = this.waiters.shift();
      if (!w) return;
      const next = w.data;
      this.#owner = next.flow;
      this.#depth = 1;
      sync(Op.acquired, next.flow, this.resource, next.site, 1);
      if (w.grant(next)) return;
      this.#owner = undefined;
      this.#depth = 0;
    }
  }
}
