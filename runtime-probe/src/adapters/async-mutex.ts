/**
 * The async-mutex adapter: an unchanged program's `Mutex` and `Semaphore` of async-mutex (both its
 * builds) are observed through their prototypes. A Mutex delegates to an internal Semaphore of
 * one permit, so the Semaphore's `acquire` and `release` see every acquisition of both; the
 * Mutex's own Semaphore is marked as it is made (a setter for `_semaphore` on Mutex's
 * prototype) and reported as a mutex.
 *
 * async-mutex grants a free lock synchronously inside `acquire()`, so an acquisition that did not
 * queue is recorded as acquired at the call, without a wait. One that queued is recorded as a
 * request, and its queue entry's `resolve` and `reject` are wrapped: the grant (from another
 * flow's release) and a `cancel()` are recorded where async-mutex makes them. `withTimeout` (and
 * `tryAcquire`, built on it) makes the acquisitions made through it waits that may give up.
 *
 * With no sink attached, each patched method reads one flag and calls the package's own.
 */
import { currentFlow, resolved, runAs } from '../identity.js';
import { rt, shared } from '../runtime.js';
import {
  callSite,
  foreignLock,
  grantedAtCall,
  released,
  waitFor,
  waitGaveUp,
  waitGranted,
  type ForeignLock,
  type ForeignWait,
  observeRejection,
} from './foreign.js';

/** The versions whose internals (a Semaphore's `_queue` of entries, Mutex's `_semaphore`) fit. */
export const ASYNC_MUTEX_RANGE = { min: '0.5.0', below: '0.6.0' } as const;

/** A queue entry of an async-mutex Semaphore. */
interface Entry {
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

/** What the adapter reads of a Semaphore instance. */
interface SemaphoreState {
  _queue: Entry[];
  _value: number;
}

type Acquire = (this: SemaphoreState, weight?: number, priority?: number) => Promise<unknown>;
type Release = (this: SemaphoreState, weight?: number) => void;

type RunExclusive = (
  this: SemaphoreState,
  callback: unknown,
  weight?: number,
  priority?: number,
) => Promise<unknown>;

interface SemaphorePrototype {
  acquire: Acquire;
  release: Release;
  runExclusive?: RunExclusive;
}

/** A `withTimeout` decorator: its `acquire` is the one the adapter marks as bounded. */
interface Decorated {
  acquire: (...args: unknown[]) => Promise<unknown>;
}
export type WithTimeout = (...args: unknown[]) => Decorated;

// Shared by both builds of the probe, so that one copy of the state observes the package.
const st = shared('adapter-async-mutex', () => ({
  locks: new WeakMap<object, ForeignLock>(),
  mutexSemaphores: new WeakSet<object>(),
  /** Queue entries whose waits are recorded. */
  entries: new WeakSet<Entry>(),
  /** Inside a `withTimeout` decorator's acquire: its acquisitions may give up. */
  bounded: 0,
  /** The wait the last observed acquisition started, for `withTimeout` to end on its timeout. */
  lastWait: undefined as ForeignWait | undefined,
  patched: new WeakSet<object>(),
  /** Inside the release of a grant that came after its wait gave up: not recorded. */
  silent: 0,
}));

function lockOf(sem: SemaphoreState): ForeignLock {
  let lock = st.locks.get(sem);
  if (!lock) {
    const mutex = st.mutexSemaphores.has(sem);
    lock = foreignLock(mutex ? 'mutex' : 'semaphore', undefined, mutex ? undefined : sem._value);
    st.locks.set(sem, lock);
  }
  return lock;
}

function observedAcquire(
  sem: SemaphoreState,
  original: Acquire,
  weight: number | undefined,
  priority: number | undefined,
): Promise<unknown> {
  const lock = lockOf(sem);
  const flow = currentFlow();
  const before = sem._queue.length;
  // An invalid weight throws from the package before anything happened: nothing to record.
  const granted = original.call(sem, weight, priority);
  const n = weight ?? 1;
  const queue = sem._queue;
  if (queue.length === before) {
    grantedAtCall(lock, flow, callSite(lock, flow, false), n);
    return granted;
  }
  // The new entry: the last one not yet observed (it is usually last; a higher priority puts it
  // before others, which are all observed already).
  let entry: Entry | undefined;
  for (let i = queue.length - 1; i >= 0; i--) {
    if (!st.entries.has(queue[i]!)) {
      entry = queue[i];
      break;
    }
  }
  if (!entry) return granted;
  const wait = waitFor(lock, flow, callSite(lock, flow, true), n, st.bounded > 0);
  st.entries.add(entry);
  const resolve = entry.resolve;
  const reject = entry.reject;
  entry.resolve = (value) => {
    if (wait.ended) {
      // A grant after the wait gave up (a withTimeout that timed out): the package releases it
      // at once, and neither the grant nor that release is the program's.
      resolve(silenced(value));
      return;
    }
    waitGranted(wait);
    resolve(value);
  };
  entry.reject = (reason) => {
    waitGaveUp(wait, 'cancel');
    reject(reason);
  };
  st.lastWait = wait;
  return granted;
}

/** The package's `[value, releaser]` with a releaser whose release is not recorded. */
function silenced(value: unknown): unknown {
  if (!Array.isArray(value) || typeof value[1] !== 'function') return value;
  const releaser = value[1] as () => void;
  return [
    value[0],
    () => {
      st.silent++;
      try {
        releaser();
      } finally {
        st.silent--;
      }
    },
  ];
}

/** Patches async-mutex's classes, once per class. */
export function patchAsyncMutex(exports: { Mutex?: unknown; Semaphore?: unknown }): boolean {
  const Semaphore = exports.Semaphore as { prototype?: SemaphorePrototype } | undefined;
  const Mutex = exports.Mutex as { prototype?: object } | undefined;
  const proto = Semaphore?.prototype;
  if (
    !proto ||
    typeof proto.acquire !== 'function' ||
    typeof proto.release !== 'function' ||
    !Mutex?.prototype
  ) {
    return false;
  }
  if (st.patched.has(proto)) return true;
  st.patched.add(proto);
  const acquire = proto.acquire;
  const release = proto.release;
  proto.acquire = function (this: SemaphoreState, weight?: number, priority?: number) {
    if (!rt.recording) return acquire.call(this, weight, priority);
    return observedAcquire(this, acquire, weight, priority);
  };
  proto.release = function (this: SemaphoreState, weight?: number) {
    if (rt.recording && st.silent === 0 && (weight === undefined || weight > 0)) {
      const lock = st.locks.get(this);
      // A lock first seen releasing was taken before recording began: nothing to attribute.
      if (lock) released(lock, weight ?? 1);
    }
    release.call(this, weight);
  };
  // The package calls a `runExclusive` callback from a `.then` reaction of its own (its async
  // functions are compiled to generators), which the identity rules would take for a flow of its
  // own: the callback runs as the flow that called `runExclusive` (a Mutex's delegates here).
  const runExclusive = proto.runExclusive;
  if (typeof runExclusive === 'function') {
    proto.runExclusive = function (
      this: SemaphoreState,
      callback: unknown,
      weight?: number,
      priority?: number,
    ) {
      if (!rt.recording || typeof callback !== 'function') {
        return runExclusive.call(this, callback, weight, priority);
      }
      const flow = currentFlow();
      const fn = callback as (value: unknown) => unknown;
      return runExclusive.call(
        this,
        (value: unknown) => runAs(resolved(flow), () => fn(value)),
        weight,
        priority,
      );
    };
  }
  // A Mutex's Semaphore is assigned once, in its constructor: the setter marks it as a mutex's
  // and stores it as the plain property it would have been.
  Object.defineProperty(Mutex.prototype, '_semaphore', {
    configurable: true,
    set(this: object, sem: object) {
      Object.defineProperty(this, '_semaphore', {
        value: sem,
        writable: true,
        enumerable: true,
        configurable: true,
      });
      st.mutexSemaphores.add(sem);
    },
  });
  return true;
}

/**
 * Wraps async-mutex's `withTimeout`: the acquisitions its decorators make may give up, so they
 * are bounded waits, and their timeout ends the wait where the decorator's promise rejects.
 */
export function wrapWithTimeout(original: WithTimeout): WithTimeout {
  return function withTimeout(this: unknown, ...args: unknown[]): Decorated {
    const decorated = original.apply(this, args);
    const acquire = decorated.acquire;
    if (typeof acquire !== 'function') return decorated;
    decorated.acquire = function (this: unknown, ...a: unknown[]): Promise<unknown> {
      if (!rt.recording) return acquire.apply(this, a);
      st.bounded++;
      st.lastWait = undefined;
      let result: Promise<unknown>;
      try {
        result = acquire.apply(this, a);
      } finally {
        st.bounded--;
      }
      const wait = st.lastWait as ForeignWait | undefined;
      st.lastWait = undefined;
      // The decorator rejects on its timeout while the package's own entry stays queued (and is
      // released at once when granted): the wait ends at the rejection.
      return wait ? observeRejection(result, () => waitGaveUp(wait, 'timeout')) : result;
    };
    return decorated;
  };
}
