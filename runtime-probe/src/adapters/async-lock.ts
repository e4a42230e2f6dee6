/**
 * The async-lock adapter: `AsyncLock.prototype.acquire(key, fn, cb?, opts?)` is observed, each
 * key of each AsyncLock instance as a mutex named `async-lock "key"`. A free key runs `fn` at
 * once (recorded as acquired at the call); a busy one queues it (a request, bounded when the
 * call or the instance has a `timeout`), and the previous holder's completion runs it later,
 * which the adapter runs as the flow that asked, so that what `fn` does is that flow's. The key
 * is released when `fn`'s promise settles (or its callback is called, in callback mode).
 *
 * Not observed: an array of keys (its acquisitions of each key are, one by one), instances made
 * with `domainReentrant` (whose re-entry the adapter cannot tell from the outside), and a
 * `maxPending` refusal, which is an error, not a wait.
 */
import { autoFlow, currentFlow, resolved, runAs } from '../identity.js';
import { rt, shared, type Flow } from '../runtime.js';
import {
  callSite,
  foreignLock,
  grantedAtCall,
  released,
  forgetUnused,
  waitFor,
  waitGaveUp,
  waitGranted,
  type ForeignHold,
  type ForeignLock,
  type ForeignWait,
  endAfter,
  observeRejection,
} from './foreign.js';

/** The versions whose `acquire` and `queues` the adapter reads (tested with 1.5.0). */
export const ASYNC_LOCK_RANGE = { min: '1.4.0', below: '2.0.0' } as const;

interface AsyncLockState {
  queues: Record<string, unknown[] | undefined>;
  domainReentrant?: boolean;
  timeout?: number;
  maxPending?: number;
}

interface AcquireOptions {
  timeout?: number;
  maxPending?: number;
}

type Acquire = (
  this: AsyncLockState,
  key: unknown,
  fn: unknown,
  cb?: unknown,
  opts?: unknown,
) => unknown;

const st = shared('adapter-async-lock', () => ({
  locks: new WeakMap<object, Map<string, ForeignLock>>(),
  patched: new WeakSet<object>(),
  /** The flows of acquisitions made outside any other (`acquisitionFlow`). */
  tasks: new WeakSet<Flow>(),
}));

/** A key's name in findings, kept short. */
function keyName(key: string): string {
  const shown = key.length > 60 ? `${key.slice(0, 57)}...` : key;
  return `async-lock ${JSON.stringify(shown)}`;
}

function lockOf(instance: AsyncLockState, key: string): ForeignLock {
  let keys = st.locks.get(instance);
  if (!keys) st.locks.set(instance, (keys = new Map<string, ForeignLock>()));
  let lock = keys.get(key);
  if (!lock) keys.set(key, (lock = foreignLock('mutex', keyName(key))));
  return lock;
}

/** Ends the hold once, however `fn` ends; keys nobody uses may then be forgotten. */
function releaser(
  instance: AsyncLockState,
  lock: ForeignLock,
  hold: () => ForeignHold | undefined,
): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    released(lock, 1, hold());
    const keys = st.locks.get(instance);
    if (keys) forgetUnused(keys);
  };
}

/**
 * `fn` as async-lock will call it: the grant recorded first (for a queued call), `fn` run as the
 * flow that asked, the release recorded where it ends. Keeps `fn`'s arity, which async-lock reads
 * to choose callback mode (`fn.length === 1`).
 */
function observedFn(
  instance: AsyncLockState,
  lock: ForeignLock,
  flow: Flow,
  fn: (...args: unknown[]) => unknown,
  wait: ForeignWait | undefined,
): (...args: unknown[]) => unknown {
  let hold: ForeignHold | undefined;
  const begin = (): void => {
    if (wait) waitGranted(wait);
    hold = lock.holds[lock.holds.length - 1];
  };
  // An acquisition of its own runs `fn` as its flow. Within one, a queued call runs from another
  // flow's completion, as the flow that asked; one granted at once runs in that flow's run.
  const call = (args: unknown[]): unknown =>
    st.tasks.has(flow) || wait ? runAs(resolved(flow), () => fn(...args)) : fn(...args);
  const end = releaser(instance, lock, () => hold);
  if (fn.length === 1) {
    return function (this: unknown, done: unknown) {
      begin();
      const callback = (err: unknown, ret: unknown): void => {
        end();
        if (typeof done === 'function') (done as (e: unknown, r: unknown) => void)(err, ret);
      };
      try {
        return call([callback]);
      } catch (err) {
        end();
        throw err;
      }
    };
  }
  return function (this: unknown) {
    begin();
    return endAfter(() => call([]), end);
  };
}

/**
 * The flow an acquisition acts as. async-lock runs `fn` for its caller, who may await the result
 * or go on (queueing work by key is what it is for): so each acquisition made outside any other
 * is a flow of its own, a child of the caller, that waits for the key, holds it and runs `fn`.
 * One made inside such a flow (a nested key, inside `fn`) is that flow's own: the outer `fn`
 * waits for it, as nested acquisitions do.
 */
function acquisitionFlow(): Flow {
  const caller = currentFlow();
  if (st.tasks.has(resolved(caller))) return caller;
  const task = autoFlow('flow', caller);
  st.tasks.add(task);
  return task;
}

function observedAcquire(
  self: AsyncLockState,
  original: Acquire,
  key: unknown,
  fn: (...args: unknown[]) => unknown,
  cb: unknown,
  opts: unknown,
): unknown {
  const flow = acquisitionFlow();
  const name = String(key);
  const lock = lockOf(self, name);
  const options = (typeof cb === 'function' ? opts : cb) as AcquireOptions | undefined;
  const queue = self.queues[name];
  const maxPending = options?.maxPending || self.maxPending;
  if (queue && maxPending !== undefined && queue.length >= maxPending) {
    return original.call(self, key, fn, cb, opts);
  }
  const free = !queue;
  const site = callSite(lock, flow, !free);
  let wait: ForeignWait | undefined;
  if (free) grantedAtCall(lock, flow, site);
  else wait = waitFor(lock, flow, site, 1, (options?.timeout || self.timeout || 0) > 0);
  const observed = observedFn(self, lock, flow, fn, wait);
  if (!wait || !(options?.timeout || self.timeout))
    return original.call(self, key, observed, cb, opts);
  // A bounded wait: its timeout rejects (or calls back with an error) before `fn` ever runs.
  const gaveUp = (): void => waitGaveUp(wait, 'timeout');
  if (typeof cb === 'function') {
    const callback = cb as (err: unknown, ret: unknown) => unknown;
    return original.call(
      self,
      key,
      observed,
      function (this: unknown, err: unknown, ret: unknown) {
        if (err && !wait.ended) gaveUp();
        return callback.call(this, err, ret);
      },
      opts,
    );
  }
  const result = original.call(self, key, observed, cb, opts);
  return result instanceof Promise
    ? observeRejection(result, () => !wait.ended && gaveUp())
    : result;
}

/** Patches async-lock's class once; false when `AsyncLock` does not have its known shape. */
export function patchAsyncLock(AsyncLock: unknown): boolean {
  const proto = (AsyncLock as { prototype?: { acquire?: unknown } } | undefined)?.prototype;
  if (typeof AsyncLock !== 'function' || !proto || typeof proto.acquire !== 'function')
    return false;
  if (st.patched.has(proto)) return true;
  st.patched.add(proto);
  const original = proto.acquire as Acquire;
  proto.acquire = function (
    this: AsyncLockState,
    key: unknown,
    fn: unknown,
    cb?: unknown,
    opts?: unknown,
  ) {
    if (
      !rt.recording ||
      Array.isArray(key) ||
      typeof fn !== 'function' ||
      this.domainReentrant ||
      typeof this.queues !== 'object'
    ) {
      return original.call(this, key, fn, cb, opts);
    }
    return observedAcquire(this, original, key, fn as (...args: unknown[]) => unknown, cb, opts);
  };
  return true;
}
