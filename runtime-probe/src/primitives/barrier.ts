import { BrokenBarrierError } from '../errors.js';
import { currentFlow } from '../identity.js';
import { Op, newResource, siteForBlocking, sync, type ResourceOptions } from '../sync.js';
import { alreadyAborted, checkOptions, Waiter, type BlockOptions } from '../waiting.js';
import { block } from './begin.js';
import { Queued } from './base.js';
import { gated, mustGate } from '../explore/hooks.js';

/** Options of a Barrier. */
export interface BarrierOptions extends ResourceOptions {
  /** Runs once per generation, when the last party arrives and before any is released. */
  action?: () => void;
}

/**
 * A cyclic barrier for `parties` tasks (Python's threading.Barrier). `wait()` resolves to the
 * arrival index within the generation (0 for the first). If a waiting party times out or is
 * aborted, or the action throws, the barrier breaks: every waiter rejects with
 * BrokenBarrierError, and so does every later `wait()` until `reset()`.
 */
export class Barrier extends Queued<number, number> {
  /** How many tasks each round waits for. */
  readonly parties: number;
  readonly #action: (() => void) | undefined;
  #generation = 0;
  #broken = false;

  /** A barrier for `parties` tasks. */
  constructor(parties: number, options?: BarrierOptions) {
    if (!Number.isSafeInteger(parties) || parties < 1) {
      throw new TypeError(`Barrier: parties must be an integer >= 1, got ${String(parties)}`);
    }
    super(newResource('barrier', options, parties));
    this.parties = parties;
    this.#action = options?.action;
  }

  /** True after `abort()` or a waiter timed out or was aborted, until `reset()`. */
  get broken(): boolean {
    return this.#broken;
  }

  /** How many rounds have completed. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Waits until `parties` tasks wait, and returns this task's arrival index (0 to parties - 1).
   * Rejects with a BrokenBarrierError when the barrier is broken.
   */
  wait(options?: BlockOptions): Promise<number> {
    const what = `${this.resource.name}.wait()`;
    if (options !== undefined) checkOptions(options, what);
    if (mustGate()) return gated(this.resource, 'wait', () => this.wait(options));
    const flow = currentFlow();
    const site = siteForBlocking();
    if (this.#broken) {
      sync(Op.error, flow, this.resource, site);
      return Promise.reject(new BrokenBarrierError(`${this.resource.name} is broken`));
    }
    if (options?.signal?.aborted) {
      this.#break(flow);
      return Promise.reject(alreadyAborted(options.signal, what));
    }
    const index = this.waiters.size;
    sync(Op.arrive, flow, this.resource, site, index);
    if (index + 1 === this.parties) {
      try {
        this.#action?.();
      } catch (err) {
        this.#break(flow);
        return Promise.reject(
          new BrokenBarrierError(`${this.resource.name}: the barrier action threw`, { cause: err }),
        );
      }
      sync(Op.pass, flow, this.resource, site, this.#generation);
      this.#generation++;
      for (let w = this.waiters.shift(); w; w = this.waiters.shift()) {
        if (w.grant(w.data)) sync(Op.wake, w.flow, this.resource, w.site);
      }
      return Promise.resolve(index);
    }
    if (options?.timeout === 0) {
      this.#break(flow);
    }
    return block(
      new Waiter<number, number>(flow, site, index),
      this.waiters,
      this.resource,
      options,
      what,
      Op.wait,
      index,
      (w) => this.#break(w.flow),
    );
  }

  /** Breaks the barrier: current and future waiters reject until reset(). */
  abort(): void {
    this.#break(currentFlow());
  }

  /** Returns the barrier to its initial state; current waiters reject with BrokenBarrierError. */
  reset(): void {
    const flow = currentFlow();
    this.#break(flow);
    this.#broken = false;
    this.#generation++;
  }

  #break(flow: ReturnType<typeof currentFlow>): void {
    if (!this.#broken) {
      this.#broken = true;
      sync(Op.broken, flow, this.resource, 0, this.#generation);
    }
    for (let w = this.waiters.shift(); w; w = this.waiters.shift()) {
      if (w.fail(new BrokenBarrierError(`${this.resource.name} was broken while waiting`))) {
        sync(Op.error, w.flow, this.resource, w.site);
      }
    }
  }
}
