import { abortErrorFor } from '../errors.js';
import { currentFlow, makeFlow, resolved, runAs } from '../identity.js';
import { rt, newId, type Flow, type ResourceRec } from '../runtime.js';
import { registerFlow } from '../recorder.js';
import { Op, siteForBlocking, sync } from '../sync.js';
import {
  alreadyAborted,
  checkOptions,
  MAX_TIMER_MS,
  WaitList,
  Waiter,
  type BlockOptions,
  isBounded,
} from '../waiting.js';
import { block } from './begin.js';
import { gated, mustGate, startGate, startTimeout } from '../explore/hooks.js';

/** Whether a task still runs, or how it ended. */
export type TaskState = 'running' | 'returned' | 'threw';

/**
 * A task started by spawn(): a named async flow with an exact identity. `join()` resolves to what
 * the function returned, or rejects with what it threw. A task that throws and has not been
 * joined when it ends prints the error on stderr, like an uncaught exception in a Python thread,
 * rather than failing silently or crashing the process.
 */
export class Task<T> {
  /** The task's id, unique in the process (as findings and traces name it). */
  readonly id: number;
  /** The name findings give it. */
  readonly name: string;
  #state: TaskState = 'running';
  #value: T | undefined;
  #error: unknown;
  #joined = false;
  readonly #joiners = new WaitList<void, undefined>();
  readonly #flow: Flow;
  /**
   * The task seen as a resource, so that a join is a wait with a holder (the task itself).
   * @internal
   */
  readonly resource: ResourceRec;

  /** Starts `fn` as a task named `name`; `spawn()` does the same. */
  constructor(name: string, fn: () => T | Promise<T>) {
    const parent = currentFlow();
    this.#flow = makeFlow(name, 'spawn', parent);
    this.id = this.#flow.id;
    this.name = name;
    this.resource = {
      id: newId(rt),
      kind: 'task',
      name,
      cls: 'task',
      site: 0,
      capacity: undefined,
      policy: undefined,
      sentIn: -1,
    };
    registerFlow(parent);
    // The peer, the parent, is filled in when the batch is encoded: the parent may still be
    // provisional (recorder.ts, `peerOf`).
    const site = siteForBlocking();
    sync(Op.taskStart, this.#flow, undefined, site, 0, 0);
    runAs(this.#flow, async () => {
      try {
        // Under the scheduler a task's start is a decision: it waits to be chosen.
        const hooks = rt.explore;
        if (hooks !== undefined) await startGate(hooks, this.#flow, this.resource, site);
        this.#end('returned', await fn(), undefined);
      } catch (err) {
        this.#end('threw', undefined, err);
      }
    }).catch(() => {});
  }

  /** Whether it still runs, or how it ended. */
  get state(): TaskState {
    return this.#state;
  }

  #end(state: TaskState, value: T | undefined, error: unknown): void {
    this.#state = state;
    this.#value = value;
    this.#error = error;
    sync(Op.taskEnd, this.#flow, undefined, 0, state === 'threw' ? 1 : 0);
    for (let w = this.#joiners.shift(); w; w = this.#joiners.shift()) {
      if (w.grant(undefined)) sync(Op.wake, w.flow, this.resource, w.site);
    }
    if (state === 'threw') {
      // Judged after the current synchronous run: a function that throws synchronously ends the
      // task inside spawn(), before `spawn(name, fn).join()` could have joined it.
      queueMicrotask(() => {
        if (this.#joined) return;
        const shown = error instanceof Error ? (error.stack ?? error.message) : String(error);
        process.stderr.write(`lockscope: task "${this.name}" threw and was not joined: ${shown}\n`);
      });
    }
  }

  #result(): T {
    if (this.#state === 'threw') throw this.#error;
    return this.#value as T;
  }

  /** Waits for the task to end; resolves to its return value or rejects with its error. */
  async join(options?: BlockOptions): Promise<T> {
    if (options !== undefined) checkOptions(options, `${this.name}.join()`);
    if (mustGate()) return gated(this.resource, 'join', () => this.join(options));
    this.#joined = true;
    const flow = currentFlow();
    const site = siteForBlocking();
    if (options?.signal?.aborted) throw alreadyAborted(options.signal, `${this.name}.join()`);
    if (this.#state === 'running') {
      await block(
        new Waiter<void, undefined>(flow, site, undefined),
        this.#joiners,
        this.resource,
        options,
        'join',
        Op.join,
        // 1: the join may give up (a timeout, a signal), so a cycle through it is not certain.
        isBounded(options) ? 1 : 0,
        undefined,
        this.id,
      );
    }
    return this.#result();
  }
}

/** Starts `fn` as a task named `name`; see Task. */
export function spawn<T>(name: string, fn: () => T | Promise<T>): Task<T> {
  if (typeof name !== 'string') throw new TypeError('spawn(): name must be a string');
  if (typeof fn !== 'function') throw new TypeError('spawn(): fn must be a function');
  return new Task(name, fn);
}

/** Resolves after `ms` milliseconds; rejects with an AbortError if `signal` aborts first. */
export function sleep(ms: number, options?: { signal?: AbortSignal }): Promise<void> {
  if (!(typeof ms === 'number' && ms >= 0 && ms <= MAX_TIMER_MS)) {
    throw new TypeError(
      `sleep(): ms must be a number from 0 to ${MAX_TIMER_MS}, got ${String(ms)}`,
    );
  }
  const signal = options?.signal;
  const flow = currentFlow();
  if (signal?.aborted) return Promise.reject(abortErrorFor(signal, 'sleep()'));
  flow.blocked = true;
  // Under the scheduler a sleep is a choice, shown at its line; otherwise no site is needed.
  const site = rt.explore !== undefined ? siteForBlocking() : 0;
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      cancel();
      flow.blocked = false;
      reject(abortErrorFor(signal!, 'sleep()'));
    };
    const cancel = startTimeout(
      flow,
      site,
      ms,
      () => {
        flow.blocked = false;
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      'sleep',
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The id of the task running now, as the probe sees it. */
export function currentTaskId(): number {
  return resolved(currentFlow()).id;
}
