import { Worker as NodeWorker, type WorkerOptions } from 'node:worker_threads';
import { currentFlow } from '../identity.js';
import { idOf } from '../protocol.js';
import { helloMessage, registerFlow } from '../recorder.js';
import { ensureIoThread } from '../transports/thread.js';
import {
  closeWorkerLedger,
  cutShort,
  openWorkerLedger,
  whenDelivered,
  whenWritten,
} from '../transports/delivery.js';
import { rt, shared, type Flow } from '../runtime.js';
import { Op, siteForBlocking, sync } from '../sync.js';
import type { SharedMutex } from './mutex.js';
import { markTerminating } from './fail-fast.js';
import { hasEnded, lifetimes, markGone, recordParent } from './lifetimes.js';
import { knownLocks, releaseAbandonedBy } from './registry.js';
import { typeScriptWorker } from './typescript-worker.js';
import { clock } from '../clock.js';

/**
 * A worker thread that Lockscope follows: its start, its exit code and uncaught error are
 * recorded against a task of its own (the thread's main flow, whose id the worker's probe uses
 * too), `join()` waits for it to end, and when it ends holding shared locks, they are released on
 * its behalf with the robust-mutex signal (`ownerDied` for the next holder; see SharedMutex).
 *
 * The worker's own code needs nothing: if it uses lockscope, its events reach this process's
 * sinks through the main thread. Every batch the worker posted has been delivered to the main
 * thread's sinks before its thread-exit is recorded and `join()` resolves (see delivery.ts); a
 * batch that has not arrived after DELIVERY_TIMEOUT_MS is counted as dropped in the `end` message.
 */
export class Worker extends NodeWorker {
  /** The task that stands for the thread's main flow. */
  readonly taskId: number;
  readonly #exited: Promise<number>;

  /**
   * Starts a worker thread, as node:worker_threads' Worker does; `options.name` names its main flow
   * in findings.
   */
  constructor(filename: string | URL, options?: WorkerOptions & { name?: string }) {
    // The I/O thread, which writes workers' batches to a collector, must be expected before the
    // worker can post its first one (delivery.ts).
    const endpoint = process.env.LOCKSCOPE_ENDPOINT;
    if (endpoint && rt.threadId === 0) {
      ensureIoThread(endpoint, helloMessage(process.env.LOCKSCOPE_TOKEN ?? ''));
    }
    const ledger = openWorkerLedger();
    // The table of ended threads must exist before the worker starts, for it to inherit it.
    lifetimes();
    const ts = typeScriptWorker(filename, options);
    super(ts?.script ?? filename, ts?.options ?? options);
    closeWorkerLedger();
    const parent = currentFlow();
    const task: Flow = {
      // The worker's probe numbers its main flow first, so its id is known without asking.
      id: idOf(this.threadId, 1),
      name: options?.name ?? `thread ${this.threadId}`,
      kind: 'main',
      parent,
      alias: undefined,
      blocked: false,
      sentIn: -1,
    };
    this.taskId = task.id;
    // Read now: a worker's threadId reads -1 once it has exited.
    const thread = this.threadId;
    recordParent(thread, rt.threadId);
    registerFlow(task);
    sync(Op.threadStart, parent, undefined, siteForBlocking(), 0, task.id);
    startHoldWatchdog();
    this.#exited = new Promise((resolve) => {
      // An uncaught error in the worker: recorded, and left to the caller's own 'error'
      // listeners (without one, Node reports it as usual).
      this.once('error', () => sync(Op.error, task, undefined));
      this.once('exit', (code: number) => {
        // At once, for the program: from now on any thread takes over the shared locks it held
        // (also after `terminate()`, where the thread ran no exit listener of its own), or that
        // any worker it started held (Node has ended them with it).
        markGone(thread);
        // And the locks this thread still has wrappers of are released now, so that their
        // waiters wake without looking again. Before the thread's last events arrive, which the
        // analysis allows for: the lock word, not the events, says who held a lock at the end.
        releaseAbandonedBy(thread);
        // The worker's last batches may still be on their way; the ones that never come are
        // counted by the process's ledger at exit. Under a collector the I/O thread writes them
        // on its own, so it must have written them too: the analysis takes the thread's exit as
        // the end of its holds and waits, which needs its last events first.
        void whenDelivered(ledger)
          .then(() => whenWritten())
          .then(() => {
            if (cutShort(ledger)) sync(Op.threadCut, task, undefined, 0, code);
            sync(Op.threadExit, task, undefined, 0, code);
            resolve(code);
          });
      });
    });
  }

  /**
   * Stops the worker. It runs no more code from here on, so fail-fast no longer counts it as
   * blocked (shared/fail-fast.ts), even before its exit is known.
   */
  override terminate(): Promise<number> {
    if (this.threadId > 0) markTerminating(this.threadId);
    return super.terminate();
  }

  /** Resolves to the worker's exit code once it has ended. */
  join(): Promise<number> {
    return this.#exited;
  }
}

const watch = shared('hold-watchdog', () => ({
  timer: undefined as ReturnType<typeof setInterval> | undefined,
  seen: new WeakMap<SharedMutex, { holds: number; since: number; reported: boolean }>(),
}));

/**
 * Starts the hold-time watchdog (once per thread): a thread stuck in a loop while holding a
 * shared lock raises no event, so every quarter of `holdWarnMs` the watchdog looks at the known
 * shared locks, and reports one still held by the same hold after `holdWarnMs` with a `held-long`
 * event naming the holder's task and acquisition site. It reads the clock, not the analysis.
 */
export function startHoldWatchdog(): void {
  const limit = rt.config.holdWarnMs;
  if (watch.timer || limit <= 0) return;
  watch.timer = clock.setInterval(() => lookAtHolds(limit), Math.max(10, limit / 4));
  watch.timer.unref();
}

function lookAtHolds(limit: number): void {
  const now = clock.now();
  for (const lock of knownLocks()) {
    const held = lock.holder();
    // A hold of a thread that has ended is not long: it is abandoned, and reported as that.
    if (!held || hasEnded(held.thread)) continue;
    const last = watch.seen.get(lock);
    if (!last || last.holds !== held.holds) {
      watch.seen.set(lock, { holds: held.holds, since: now, reported: false });
      continue;
    }
    const ms = now - last.since;
    if (ms >= limit && !last.reported) {
      last.reported = true;
      sync(Op.heldLong, currentFlow(), lock.resource, held.site, Math.round(ms), held.task);
    }
  }
}
