import { availableParallelism } from 'node:os';
import { parentPort, type WorkerOptions } from 'node:worker_threads';
import { LockscopeError } from '../errors.js';
import { spawn } from '../primitives/task.js';
import { warnOnce } from '../runtime.js';
import { Worker } from './worker.js';

/** Messages between a pool and its workers, tagged so that the program's own messages pass by. */
type ToWorker = { lockscope: 'job'; id: number; payload: unknown } | { lockscope: 'stop' };
type FromWorker =
  | { lockscope: 'result'; id: number; ok: boolean; value?: unknown; error?: string }
  | { lockscope: 'ready' };

function tagOf(m: unknown): unknown {
  return typeof m === 'object' && m !== null ? (m as { lockscope?: unknown }).lockscope : undefined;
}

function isResult(m: unknown): m is Extract<FromWorker, { lockscope: 'result' }> {
  return tagOf(m) === 'result';
}

function isToWorker(m: unknown): m is ToWorker {
  const tag = typeof m === 'object' && m !== null ? (m as { lockscope?: unknown }).lockscope : '';
  return tag === 'job' || tag === 'stop';
}

/** A pool job's outcome, as it will be: `result()` waits for it. */
export class Future<T> {
  readonly #promise: Promise<T>;
  #settled = false;

  /** Made by `WorkerPool.submit()`. */
  constructor(promise: Promise<T>) {
    this.#promise = promise.finally(() => {
      this.#settled = true;
    });
    // A future nobody asks for must not become an unhandled rejection.
    this.#promise.catch(() => {});
  }

  /** True once the job has ended, either way. */
  get done(): boolean {
    return this.#settled;
  }

  /** The job's return value, or its error. */
  result(): Promise<T> {
    return this.#promise;
  }
}

/** A job failed in its worker; `message` is the worker's error message. */
export class WorkerJobError extends LockscopeError {}

interface Pending {
  id: number;
  payload: unknown;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/**
 * A fixed number of worker threads running one script, which answers jobs with `serve()`.
 * `submit()` returns a Future; jobs wait in FIFO order for an idle worker. `map()` runs a job
 * per input and gives the results in input order; `asCompleted()` gives futures as they end. `shutdown()` lets the
 * queued and running jobs finish, then stops the workers and resolves when they have exited. A
 * worker that dies fails its running job and is replaced.
 */
export class WorkerPool {
  /** How many worker threads it runs. */
  readonly size: number;
  readonly #filename: string | URL;
  readonly #options: WorkerOptions | undefined;
  readonly #idle: Worker[] = [];
  readonly #running = new Map<Worker, Pending>();
  readonly #queue: Pending[] = [];
  readonly #workers = new Set<Worker>();
  #nextId = 1;
  #stopping: Promise<void> | undefined;
  /** Workers that died, one after another, before answering a job. */
  #failedStarts = 0;
  /** Why the pool stopped starting workers, once it has. */
  #broken: string | undefined;

  /**
   * Starts `options.size` workers (default: the available parallelism) running `filename`, a script
   * that calls `serve()`.
   */
  constructor(filename: string | URL, options?: WorkerOptions & { size?: number }) {
    const size = options?.size ?? availableParallelism();
    if (!(Number.isInteger(size) && size >= 1)) {
      throw new TypeError(`WorkerPool: size must be an integer >= 1, got ${String(size)}`);
    }
    this.size = size;
    this.#filename = filename;
    this.#options = options;
    for (let i = 0; i < size; i++) this.#start();
  }

  #start(): void {
    const w = new Worker(this.#filename, this.#options);
    this.#workers.add(w);
    // Set when the script has called serve(): a worker that dies before that failed to start.
    let started = false;
    let error: string | undefined;
    w.on('message', (m: unknown) => {
      if (tagOf(m) === 'ready') {
        started = true;
        this.#failedStarts = 0;
        return;
      }
      if (!isResult(m)) return;
      const job = this.#running.get(w);
      if (!job || job.id !== m.id) return;
      this.#running.delete(w);
      if (m.ok) job.resolve(m.value);
      else job.reject(new WorkerJobError(m.error ?? 'the job failed'));
      this.#ready(w);
    });
    // The worker's own error (a script that does not load, a throw at start-up) is what its job
    // and the user are told; Node would otherwise print it only without a listener.
    w.on('error', (err: unknown) => {
      error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    });
    w.on('exit', (code: number) => {
      this.#workers.delete(w);
      const idle = this.#idle.indexOf(w);
      if (idle >= 0) this.#idle.splice(idle, 1);
      const how = error ? `failed: ${error}` : `exited with code ${code}`;
      const job = this.#running.get(w);
      if (job) {
        this.#running.delete(w);
        job.reject(new WorkerJobError(`the worker running job ${job.id} ${how}`));
      }
      const stopped = this.#stopping !== undefined && this.#queue.length === 0;
      if (!started && !stopped) {
        this.#failedStarts++;
        warnOnce(
          `pool-start ${String(this.#filename)} ${how}`,
          `a worker of the pool for ${String(this.#filename)} ${how} before it called serve()`,
        );
      }
      // Workers that die before they serve would be restarted forever: once every worker of
      // the pool has, in a row, the pool is broken and fails its queued jobs. While stopping, a
      // worker is replaced only if jobs still wait for one.
      if (this.#failedStarts >= this.size) this.#break(how);
      else if (!stopped) this.#start();
      this.#drained?.();
    });
    this.#ready(w);
  }

  #break(how: string): void {
    this.#broken = `the workers of the pool for ${String(this.#filename)} fail to start: ${how}`;
    for (const job of this.#queue.splice(0)) job.reject(new WorkerJobError(this.#broken));
    this.#drained?.();
  }

  #ready(w: Worker): void {
    const job = this.#queue.shift();
    if (!job) {
      this.#idle.push(w);
      this.#drained?.();
      return;
    }
    this.#running.set(w, job);
    const message: ToWorker = { lockscope: 'job', id: job.id, payload: job.payload };
    w.postMessage(message);
  }

  #drained: (() => void) | undefined;

  /** Queues a job; its payload is sent to a worker by structured clone. */
  submit<T>(payload: unknown): Future<T> {
    if (this.#stopping) throw new LockscopeError('submit() after shutdown()');
    if (this.#broken) return new Future(Promise.reject(new WorkerJobError(this.#broken)));
    const promise = new Promise<unknown>((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, payload, resolve, reject });
    });
    const w = this.#idle.shift();
    if (w) this.#ready(w);
    return new Future(promise as Promise<T>);
  }

  /**
   * Runs the pool's job once for each of `inputs` (each a payload, as for `submit()`) and
   * resolves to their results in the order of the inputs, whatever order they complete in
   * (Python's `Executor.map`). Every job is queued at once, so they run as workers are free. It
   * rejects with the error of the first input, in input order, whose job failed, as Python's
   * map raises when its iteration reaches that result; the other jobs still run to their end.
   *
   * It takes no function, unlike Python's: a function cannot cross to a worker thread (structured
   * clone refuses it), so the pool's function is the handler its script gave `serve()`, and what
   * changes from job to job is the payload. For results in the order they complete, use
   * `asCompleted()` on the futures of `submit()`.
   */
  map<R>(inputs: Iterable<unknown>): Promise<R[]> {
    if (!isIterable(inputs)) {
      throw new TypeError(
        'WorkerPool.map(): inputs must be an iterable of payloads, such as an array',
      );
    }
    const futures = Array.from(inputs, (payload) => this.submit<R>(payload));
    return (async () => {
      const results: R[] = [];
      for (const future of futures) results.push(await future.result());
      return results;
    })();
  }

  /**
   * Yields `futures` as their jobs end, the first to end first (Python's `as_completed`): those
   * already done come first, in the order given, and each future once. It yields the futures
   * rather than their results, so that one job's failure surfaces at its own `result()` and
   * does not end the iteration or hide the others' results, and so that the caller can tell
   * which job ended by the future it kept from `submit()`.
   *
   * Completion order is an iterator, not an option of `map()`, because its point is to act on
   * each result as it comes: an array in completion order would wait for the last job as well,
   * and lose which input each result came from. It accepts the futures of any pool.
   */
  asCompleted<T>(futures: Iterable<Future<T>>): AsyncIterableIterator<Future<T>> {
    if (!isIterable(futures)) {
      throw new TypeError('WorkerPool.asCompleted(): futures must be an iterable of Futures');
    }
    const unique = new Set(futures);
    for (const f of unique) {
      if (!(f instanceof Future)) {
        throw new TypeError(
          `WorkerPool.asCompleted(): expected the Futures of submit(), got ${String(f)}`,
        );
      }
    }
    return inCompletionOrder([...unique]);
  }

  /** Finishes the queued and running jobs, then stops every worker. */
  shutdown(): Promise<void> {
    this.#stopping ??= (async () => {
      while (this.#queue.length > 0 || this.#running.size > 0) {
        await new Promise<void>((resolve) => (this.#drained = resolve));
      }
      const exits = [...this.#workers].map((w) => w.join());
      for (const w of this.#workers) w.postMessage({ lockscope: 'stop' } satisfies ToWorker);
      await Promise.all(exits);
    })();
    return this.#stopping;
  }
}

/** An iterable object; a string, iterable by character, is refused as a likely mistake. */
function isIterable(value: unknown): value is Iterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function'
  );
}

/** Yields each future once it has settled, in the order they settle. */
async function* inCompletionOrder<T>(futures: Future<T>[]): AsyncGenerator<Future<T>, void> {
  const settled: Future<T>[] = [];
  let wake: (() => void) | undefined;
  for (const future of futures) {
    const done = (): void => {
      settled.push(future);
      wake?.();
    };
    future.result().then(done, done);
  }
  for (let given = 0; given < futures.length; given++) {
    while (settled.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    yield settled.shift()!;
  }
}

/**
 * In a pool's worker script: answers the pool's jobs with `handler`, each run as a task of its
 * own, until the pool shuts down.
 */
export function serve<P, R>(handler: (payload: P) => R | Promise<R>): void {
  const port = parentPort;
  if (!port) throw new LockscopeError('serve() runs in a worker thread started by a WorkerPool');
  const onMessage = (m: unknown): void => {
    if (!isToWorker(m)) return;
    if (m.lockscope === 'stop') {
      port.off('message', onMessage);
      port.close();
      return;
    }
    const { id, payload } = m;
    spawn(`job ${id}`, () => handler(payload as P))
      .join()
      .then(
        (value) =>
          port.postMessage({ lockscope: 'result', id, ok: true, value } satisfies FromWorker),
        (err: unknown) =>
          port.postMessage({
            lockscope: 'result',
            id,
            ok: false,
            error: err instanceof Error ? err.message : String(err),
          } satisfies FromWorker),
      );
  };
  port.on('message', onMessage);
  // Tells the pool that this worker started: a worker that dies after this failed a job, not
  // its start.
  port.postMessage({ lockscope: 'ready' } satisfies FromWorker);
}
