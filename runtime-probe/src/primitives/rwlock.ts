import { currentFlow, resolved } from '../identity.js';
import { rt, type Flow } from '../runtime.js';
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
import { checkOptions, Waiter, type BlockOptions, isBounded } from '../waiting.js';
import { block, rejectIfAborted } from './begin.js';
import { Guard, RELEASE, type Hold } from './guard.js';
import { judgeWait, type Blocker } from './fail-fast.js';
import { Queued } from './base.js';
import { gated, mustGate } from '../explore/hooks.js';

const READ = 1;
const WRITE = 2;

/** Options of an RWLock. */
export interface RWLockOptions extends ResourceOptions {
  /**
   * `writer-preferring` (the default): once a writer waits, new readers wait behind it, so writers
   * cannot starve; a reader that re-enters while a writer waits then deadlocks (RWR), which the
   * analysis reports. `fair`: strict arrival order, readers admitted in consecutive batches.
   */
  policy?: 'writer-preferring' | 'fair';
}

/** A reader-writer lock: many readers or one writer. */
export class RWLock extends Queued<Hold, Hold> {
  /**
   * Who goes first when readers and writers wait: `writer-preferring` (default) queues new readers
   * behind a waiting writer; `fair` grants in arrival order.
   */
  readonly policy: 'writer-preferring' | 'fair';
  /** The read holds (their flows are what fail-fast follows). */
  readonly #reads = new Set<Hold>();
  #writer: Hold | undefined = undefined;
  #writersWaiting = 0;

  /** A read-write lock, free. */
  constructor(options?: RWLockOptions) {
    const policy = options?.policy ?? 'writer-preferring';
    if (policy !== 'writer-preferring' && policy !== 'fair') {
      throw new TypeError(
        `RWLock: policy must be "writer-preferring" or "fair", got ${String(policy)}`,
      );
    }
    super(newResource('rwlock', options, undefined, policy));
    this.policy = policy;
  }

  /** How many read holds it has now. */
  get readers(): number {
    return this.#reads.size;
  }

  /** True while a task holds it for writing. */
  get isWriteLocked(): boolean {
    return this.#writer !== undefined;
  }

  #canRead(): boolean {
    if (this.#writer) return false;
    return this.policy === 'fair' ? this.waiters.size === 0 : this.#writersWaiting === 0;
  }

  #canWrite(): boolean {
    return this.#writer === undefined && this.#reads.size === 0 && this.waiters.size === 0;
  }

  /**
   * Waits for a read hold, shared with other readers, and returns its guard. Rejects with a
   * TimeoutError or AbortError per `options`, and under fail-fast with a DeadlockError.
   */
  read(options?: BlockOptions): Promise<Guard> {
    if (mustGate()) return gated(this.resource, 'read', () => this.read(options));
    return this.#acquire(READ, options);
  }

  /**
   * Waits for the write hold, which excludes every other hold, and returns its guard. Upgrading a
   * read hold this way waits forever: release the read hold first.
   */
  write(options?: BlockOptions): Promise<Guard> {
    if (mustGate()) return gated(this.resource, 'write', () => this.write(options));
    return this.#acquire(WRITE, options);
  }

  /** Takes a read hold at once if it can be granted now; otherwise returns undefined. */
  tryRead(): Guard | undefined {
    return this.#try(READ);
  }

  /** Takes the write hold at once if it is free and nobody waits; otherwise returns undefined. */
  tryWrite(): Guard | undefined {
    return this.#try(WRITE);
  }

  #try(mode: number): Guard | undefined {
    const flow = currentFlow();
    const site = siteForOther();
    if (mode === READ ? this.#canRead() : this.#canWrite()) {
      return this.#grantNow(flow, site, mode, Op.tryAcquired);
    }
    sync(Op.tryFailed, flow, this.resource, site || siteForBlocking(), mode);
    return undefined;
  }

  #acquire(mode: number, options: BlockOptions | undefined): Promise<Guard> {
    const method = mode === READ ? 'read' : 'write';
    if (options !== undefined) checkOptions(options, `${this.resource.name}.${method}()`);
    const flow = currentFlow();
    const free = mode === READ ? this.#canRead() : this.#canWrite();
    const site = siteFor(this.resource, flow, !free);
    const aborted = rejectIfAborted(options, flow, this.resource, site, method, mode);
    if (aborted) return aborted;
    if (free) return Promise.resolve(this.#grantNow(flow, site, mode));
    const hold: Hold = { flow, site, released: false, n: mode };
    if (mode === WRITE && options?.timeout !== 0 && !options?.signal?.aborted)
      this.#writersWaiting++;
    const waiter = new Waiter<Hold, Hold>(flow, site, hold);
    const granted = block(
      waiter,
      this.waiters,
      this.resource,
      options,
      method,
      Op.request,
      mode,
      (w) => {
        if (w.data.n === WRITE) this.#writersWaiting--;
        this.#dispatch();
      },
    );
    // A wait that may give up (a timeout, a signal) is not judged, nor followed by others.
    if (rt.config.failFast && !waiter.done && !isBounded(options)) {
      // eslint-disable-next-line @typescript-eslint/unbound-method -- a mark in the stack, not called.
      const call = mode === READ ? this.read : this.write;
      judgeWait(flow, this, waiter, granted, {
        mode,
        site,
        call,
        // A refused writer no longer waits: readers it held back may go.
        refused: () => {
          if (mode !== WRITE) return;
          this.#writersWaiting--;
          this.#dispatch();
        },
      });
    }
    return granted.then((h) => new Guard(this, h));
  }

  /**
   * The flows that must move before `flow` may take the lock in `mode` (for fail-fast): the
   * writer, the readers when it asks to write, and the waiting writers the policy serves first
   * (every one, for a reader of a writer-preferring lock; those ahead of it, otherwise).
   * @internal
   */
  *blockersOf(flow: Flow, mode: number): Iterable<Blocker> {
    if (this.#writer) yield { flow: this.#writer.flow, ahead: false };
    if (mode === WRITE) for (const h of this.#reads) yield { flow: h.flow, ahead: false };
    const everyWriter = mode === READ && this.policy === 'writer-preferring';
    for (let w = this.waiters.head; w; w = w.next) {
      // The request's own entry: its flow may be provisional, so identities are compared.
      if (resolved(w.data.flow) === resolved(flow)) {
        if (!everyWriter) return;
        continue;
      }
      if (w.data.n === WRITE) yield { flow: w.data.flow, ahead: true };
    }
  }

  #grantNow(flow: Flow, site: number, mode: number, op: OpCode = Op.acquired): Guard {
    const hold: Hold = { flow, site, released: false, n: mode };
    this.#take(hold, op);
    return new Guard(this, hold, op === Op.tryAcquired);
  }

  #take(hold: Hold, op: OpCode = Op.acquired): void {
    if (hold.n === READ) this.#reads.add(hold);
    else this.#writer = hold;
    sync(op, hold.flow, this.resource, hold.site, hold.n);
  }

  /** @internal */
  [RELEASE](hold: Hold): void {
    if (hold.n === READ) this.#reads.delete(hold);
    else this.#writer = undefined;
    sync(Op.released, hold.flow, this.resource, 0, hold.n);
    this.#dispatch();
  }

  /** Grants what the policy allows to the waiters, in order. */
  #dispatch(): void {
    for (let w = this.waiters.head; w && !this.#writer;) {
      const next = w.next;
      const hold = w.data;
      if (hold.n === WRITE) {
        if (this.#reads.size > 0) return;
        this.waiters.remove(w);
        this.#writersWaiting--;
        this.#take(hold);
        if (!w.grant(hold)) this.#writer = undefined;
        return;
      }
      // A reader: admitted unless a writer is ahead of it (fair) or waits at all (preferring).
      if (this.policy === 'writer-preferring' && this.#writersWaiting > 0) {
        w = next;
        continue;
      }
      this.waiters.remove(w);
      this.#take(hold);
      if (!w.grant(hold)) this.#reads.delete(hold);
      w = next;
    }
  }
}
