/**
 * lockscope: instrumented concurrency primitives for async TypeScript.
 *
 * Every operation is reported to Lockscope when a sink is attached (LOCKSCOPE_TRACE,
 * LOCKSCOPE_ENDPOINT, or subscribe()); with none attached, the primitives cost next to nothing
 * more than plain ones.
 */
import {
  applyConfig,
  attachSink,
  flush,
  stats as probeStats,
  type ProbeStats,
} from './recorder.js';
import { rt, type ProbeConfig } from './runtime.js';
import { startProbe } from './startup.js';
import { libraryProblem } from './library.js';
import { setLibrary } from './sites.js';
import { SubscriberSink, type Listener } from './transports/subscriber.js';

export { Mutex, type MutexGuard } from './primitives/mutex.js';
export { ReentrantMutex } from './primitives/reentrant.js';
export { RWLock, type RWLockOptions } from './primitives/rwlock.js';
export { Semaphore, type SemaphoreOptions } from './primitives/semaphore.js';
export { Condition } from './primitives/condition.js';
export { Event } from './primitives/event.js';
export { Barrier, type BarrierOptions } from './primitives/barrier.js';
export { WaitGroup } from './primitives/waitgroup.js';
export { Channel, type RecvResult } from './primitives/channel.js';
export {
  select,
  type SelectCase,
  type SelectOptions,
  type SelectResult,
} from './primitives/select.js';
export { spawn, sleep, currentTaskId, Task, type TaskState } from './primitives/task.js';
export { Timer, type TimerOptions, type TimerState } from './primitives/timer.js';
export { Guard } from './primitives/guard.js';
export { SharedMutex, type SharedMutexOptions } from './shared/mutex.js';
export { SharedGuard } from './shared/guard.js';
export { Worker } from './shared/worker.js';
export { SharedCondition } from './shared/condition.js';
export { SharedSemaphore, type SharedSemaphoreOptions } from './shared/semaphore.js';
export { WorkerPool, Future, WorkerJobError, serve } from './shared/pool.js';
export { SharedBarrier, type SharedBarrierOptions } from './shared/barrier.js';
export type { BlockOptions } from './waiting.js';
export type { ResourceOptions } from './sync.js';
export {
  LockscopeError,
  TimeoutError,
  AbortError,
  BrokenBarrierError,
  ChannelClosedError,
  LockMisuseError,
  DeadlockError,
  type DeadlockStep,
  AbandonedLockError,
} from './errors.js';
export type { Message } from './protocol.js';
export { PROTOCOL_VERSION } from './protocol.js';
export type { ProbeStats, Listener, ProbeConfig };
export { installAdapters, registerProbe } from './adapters/install.js';

startProbe();

/**
 * Receives every message the probe produces, in process, starting with a `hello`. Delivery is
 * batched off the hot path. Returns a function that unsubscribes.
 */
export function subscribe(listener: Listener): () => void {
  if (typeof listener !== 'function')
    throw new TypeError('subscribe(): listener must be a function');
  const sink = new SubscriberSink(listener);
  sink.start();
  return attachSink(sink);
}

/** Counters of the recorder and its sinks. */
export function stats(): ProbeStats {
  return probeStats();
}

/** Delivers everything recorded so far to the sinks now, instead of after the current burst. */
export function flushEvents(): void {
  flush();
}

/** Changes how the probe records (stack capture, batch size, heartbeats, socket queue). */
export function configure(changes: Partial<ProbeConfig>): void {
  if (typeof changes !== 'object' || changes === null) {
    throw new TypeError('configure(): expected an object such as { stacks: "off" }');
  }
  const next = { ...rt.config, ...changes };
  if (!['off', 'blocking', 'all'].includes(next.stacks)) {
    throw new TypeError(
      `configure(): stacks must be "off", "blocking" or "all", got ${String(next.stacks)}`,
    );
  }
  const integer = (key: keyof ProbeConfig, min: number, max: number): void => {
    const v = next[key];
    if (!(Number.isInteger(v) && (v as number) >= min && (v as number) <= max)) {
      throw new TypeError(
        `configure(): ${key} must be an integer from ${min} to ${max}, got ${String(v)}`,
      );
    }
  };
  integer('stackDepth', 1, 64);
  integer('batchSize', 16, 1 << 20);
  integer('heartbeatMs', 0, 2 ** 31 - 1);
  integer('socketHighWater', 1024, 2 ** 31 - 1);
  integer('holdWarnMs', 0, 2 ** 31 - 1);
  if (typeof next.failFast !== 'boolean') {
    throw new TypeError(
      `configure(): failFast must be true or false, got ${String(next.failFast)}`,
    );
  }
  const problem = libraryProblem(next.library, 'configure(): library');
  if (problem) throw new TypeError(problem);
  if (next.library !== rt.config.library) setLibrary(next.library, process.cwd());
  applyConfig({ ...next, library: [...next.library] });
}
