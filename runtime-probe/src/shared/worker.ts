import { Worker as NodeWorker, type WorkerOptions } from 'node:worker_threads';
import { currentFlow, resolved } from '../identity.js';
import { registerFlow } from '../recorder.js';
import { shared, type Flow } from '../runtime.js';
import { Op, siteForBlocking, sync } from '../sync.js';
import type { SharedMutex } from './mutex.js';

/**
 * The shared locks this thread knows of (made here, or made again here from a handle), weakly
 * held, so that a worker's exit can release the ones it held.
 */
const known = shared('shared-locks', () => ({
  locks: new Set<WeakRef<SharedMutex>>(),
  sweepAt: 1024,
}));

/** Remembers a shared lock; dead entries are swept as the set doubles, so it stays bounded. */
export function rememberSharedLock(lock: SharedMutex): void {
  known.locks.add(new WeakRef(lock));
  if (known.locks.size < known.sweepAt) return;
  for (const ref of known.locks) if (!ref.deref()) known.locks.delete(ref);
  known.sweepAt = Math.max(1024, known.locks.size * 2);
}

/**
 * A worker thread that Lockscope follows: its start, its exit code and uncaught error are
 * recorded against a task of its own (the thread's main flow, whose id the worker's probe uses
 * too), `join()` waits for it to end, and when it ends holding shared locks, they are released on
 * its behalf with the robust-mutex signal (`ownerDied` for the next holder; see SharedMutex).
 *
 * The worker's own code needs nothing: if it uses lockscope, its events reach this process's
 * sinks through the main thread.
 */
export class Worker extends NodeWorker {
  /** The task that stands for the thread's main flow. */
  readonly taskId: number;
  readonly #exited: Promise<number>;

  constructor(filename: string | URL, options?: WorkerOptions & { name?: string }) {
    super(filename, options);
    const parent = currentFlow(false);
    const task: Flow = {
      // The worker's probe numbers its main flow first, so its id is known without asking.
      id: this.threadId * 2 ** 32 + 1,
      name: options?.name ?? `thread ${this.threadId}`,
      kind: 'main',
      parent: resolved(parent).id,
      alias: undefined,
      blocked: false,
      sentIn: -1,
    };
    this.taskId = task.id;
    // Read now: a worker's threadId reads -1 once it has exited.
    const thread = this.threadId;
    registerFlow(task);
    sync(Op.threadStart, parent, undefined, siteForBlocking(), 0, task.id);
    this.#exited = new Promise((resolve) => {
      // An uncaught error in the worker: recorded, and left to the caller's own 'error'
      // listeners (without one, Node reports it as usual).
      this.once('error', () => sync(Op.error, task, undefined));
      this.once('exit', (code: number) => {
        sync(Op.threadExit, task, undefined, 0, code);
        releaseAbandonedBy(thread);
        resolve(code);
      });
    });
  }

  /** Resolves to the worker's exit code once it has ended. */
  join(): Promise<number> {
    return this.#exited;
  }
}

/** Releases, on behalf of a thread that ended, every known shared lock it still held. */
export function releaseAbandonedBy(threadId: number): number {
  let released = 0;
  for (const ref of known.locks) {
    const lock = ref.deref();
    if (!lock) {
      known.locks.delete(ref);
      continue;
    }
    if (lock.releaseAbandoned(threadId)) released++;
  }
  return released;
}
