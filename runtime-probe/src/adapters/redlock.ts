/**
 * The redlock adapter (redlock 4, over ioredis or node-redis clients): a lock of one Redis key is
 * a mutex named `redis "key"`. redlock tries the key on its servers and, while it is taken, tries
 * again after `retryDelay` up to `retryCount` times: that retry loop is the wait, from the call
 * until the lock is obtained (`acquired`) or redlock gives up with a LockError (the wait timed
 * out). It may give up, so the wait is a bounded one and a cycle through it is judged as a
 * `withTimeout` acquisition's is; with `retryCount: -1` it never gives up and the wait is not
 * bounded. `unlock` (or `release`, or `Lock.prototype.unlock`) ends the hold at the call.
 *
 * A Redis key is one lock for every process that uses the same server, whatever host name each
 * one reached it by, so its resource carries a global key made of the servers' own identities
 * (`INFO server`'s `run_id`, asked once per client, sorted when redlock has several servers for
 * its quorum) and the key: the analysis takes every process's resource with one global key as one
 * resource, and a wait-for cycle between processes closes as one deadlock.
 *
 * Not observed: a lock of several keys at once (an array of more than one resource), whose
 * all-or-nothing wait is not a wait for one lock; `extend`, which changes no holder; and a lock
 * that expires by its time-to-live while held, which stays held to the analysis (the probe never
 * sees Redis drop the key).
 */
import { createHash } from 'node:crypto';
import { currentFlow } from '../identity.js';
import { shared, type Flow } from '../runtime.js';
import { siteForBlocking } from '../sync.js';
import {
  foreignLock,
  forgetUnused,
  recording,
  released,
  waitFor,
  waitGaveUp,
  waitGranted,
  type ForeignHold,
  type ForeignLock,
  type ForeignWait,
} from './foreign.js';

/** The versions whose `_lock(resource, value, ttl, options, callback)` and `unlock` the adapter reads (tested with 4.2.0; 4.2 added the options). */
export const REDLOCK_RANGE = { min: '4.2.0', below: '5.0.0' } as const;

/** The longest global key the protocol carries (under 512 characters). */
const GLOBAL_MAX = 511;

/** A Redis client as the adapter uses it: `INFO`, in callback form (ioredis and node-redis 3). */
interface Client {
  info?: (section: string, callback: (err: unknown, text: unknown) => void) => unknown;
}

interface RedlockState {
  servers?: unknown;
  retryCount?: unknown;
}

/** redlock's private `_lock(resource, value, ttl, options, callback)`, which every lock goes through. */
type LockMethod = (
  this: RedlockState,
  resource: unknown,
  value: unknown,
  ttl: unknown,
  options: unknown,
  callback: unknown,
) => unknown;

type UnlockMethod = (this: RedlockState, lock: unknown, callback: unknown) => unknown;

/** The bluebird promise redlock returns, as far as the adapter uses it. */
interface Bluebird {
  then(ok: (value: unknown) => unknown, fail: (err: unknown) => unknown): Bluebird;
  nodeify?: (callback: unknown) => unknown;
}

/** A client's server identity: known, or asked and awaited by the listeners. */
type Identity = string | ((id: string | undefined) => void)[];

const st = shared('adapter-redlock', () => ({
  patched: new WeakSet<object>(),
  /** Each client's server `run_id`, or the calls waiting for the answer to `INFO server`. */
  ids: new WeakMap<object, Identity>(),
  /** The locks of this thread by global key: one per Redis key and server, whichever client. */
  locks: new Map<string, ForeignLock>(),
  /** The hold each Lock object the program got stands for, until it is unlocked. */
  holds: new WeakMap<object, { lock: ForeignLock; hold: ForeignHold }>(),
  /** redlock's LockError, by which a given-up wait is told from any other failure. */
  lockError: undefined as (new (...args: never[]) => unknown) | undefined,
}));

/** The server's `run_id` in an `INFO server` reply (lines of `field:value`), if it has one. */
export function runIdOf(text: unknown): string | undefined {
  const reply = typeof text === 'string' ? text : text instanceof Uint8Array ? String(text) : '';
  return /^run_id:([0-9a-f]{40})\r?$/m.exec(reply)?.[1];
}

/**
 * The global key of Redis key `key` on the servers `ids` (their run_ids, in any order): the same
 * in every process that locks that key there. A key too long for the protocol is hashed.
 */
export function globalKey(ids: readonly string[], key: string): string {
  const servers = [...ids].sort().join(',');
  const plain = `redis:${servers}:${key}`;
  if (plain.length <= GLOBAL_MAX) return plain;
  return `redis:${servers}:#${createHash('sha256').update(key).digest('hex')}`;
}

/** A key's name in findings, kept short. */
function keyName(key: string): string {
  const shown = key.length > 60 ? `${key.slice(0, 57)}...` : key;
  return `redis ${JSON.stringify(shown)}`;
}

/**
 * Calls `then` with the client's server identity: at once when it is known, else once `INFO
 * server` answers, with undefined when it cannot be learned (the next call asks again). The
 * question goes out before redlock's own command on the same connection, whose replies come in
 * order, so it is answered before the lock is.
 */
function identify(client: unknown, then: (id: string | undefined) => void): void {
  if (typeof client !== 'object' || client === null) return then(undefined);
  const known = st.ids.get(client);
  if (typeof known === 'string') return then(known);
  if (known) {
    known.push(then);
    return;
  }
  const info = (client as Client).info;
  if (typeof info !== 'function') return then(undefined);
  const waiting = [then];
  st.ids.set(client, waiting);
  const answer = (id: string | undefined): void => {
    if (id === undefined) st.ids.delete(client);
    else st.ids.set(client, id);
    for (const w of waiting) w(id);
  };
  try {
    info.call(client, 'server', (err: unknown, text: unknown) =>
      answer(err ? undefined : runIdOf(text)),
    );
  } catch {
    answer(undefined);
  }
}

/** Calls `then` with the run_ids of all of `servers`, or undefined when one cannot be learned. */
function identifyAll(servers: readonly unknown[], then: (ids: string[] | undefined) => void): void {
  const ids: string[] = [];
  let left = servers.length;
  let failed = false;
  for (const client of servers) {
    identify(client, (id) => {
      if (id === undefined) failed = true;
      else ids.push(id);
      if (--left === 0) then(failed ? undefined : ids);
    });
  }
}

function lockOf(ids: readonly string[], key: string): ForeignLock {
  const global = globalKey(ids, key);
  let lock = st.locks.get(global);
  if (!lock) st.locks.set(global, (lock = foreignLock('mutex', keyName(key))));
  return lock;
}

/** The single key a lock call names, or undefined for several keys (or none). */
function singleKey(resource: unknown): string | undefined {
  if (typeof resource === 'string') return resource;
  if (Array.isArray(resource) && resource.length === 1 && typeof resource[0] === 'string')
    return resource[0];
  return undefined;
}

/** Whether a lock call may give up: redlock retries forever only with `retryCount: -1`. */
function mayGiveUp(self: RedlockState, options: unknown): boolean {
  // redlock reads `options.retryCount || self.retryCount`: a 0 in the options falls through too.
  const own = (options as { retryCount?: unknown } | undefined)?.retryCount;
  const count = typeof own === 'number' && own !== 0 ? own : self.retryCount;
  return count !== -1;
}

/** One observed lock call: its wait (once the servers are known) and its outcome. */
interface Call {
  readonly flow: Flow;
  readonly site: number;
  readonly bounded: boolean;
  wait?: ForeignWait;
  /** The Lock object obtained, or the error redlock gave up with. */
  outcome?: { lock: object } | { err: unknown };
}

/** Records the outcome of a call whose wait is recorded: the grant and its hold, or the end. */
function settle(call: Call): void {
  const { wait, outcome } = call;
  if (!wait || !outcome || wait.ended) return;
  if ('lock' in outcome) {
    waitGranted(wait);
    const hold = wait.lock.holds[wait.lock.holds.length - 1];
    if (hold) st.holds.set(outcome.lock, { lock: wait.lock, hold });
    return;
  }
  const gaveUp = st.lockError !== undefined && outcome.err instanceof st.lockError;
  waitGaveUp(wait, gaveUp ? 'timeout' : 'cancel');
}

function observedLock(
  self: RedlockState,
  original: LockMethod,
  servers: readonly unknown[],
  key: string,
  resource: unknown,
  ttl: unknown,
  options: unknown,
  callback: unknown,
): unknown {
  const call: Call = {
    flow: currentFlow(),
    site: siteForBlocking(),
    bounded: mayGiveUp(self, options),
  };
  // Asked before redlock sends its own command, so that the servers answer it first.
  identifyAll(servers, (ids) => {
    // Known only after the lock was obtained (or given up), which does not happen while replies
    // come in order: nothing is recorded, rather than a hold whose release may already be past.
    if (!ids || call.outcome) return;
    call.wait = waitFor(lockOf(ids, key), call.flow, call.site, 1, call.bounded);
  });
  const promise = original.call(self, resource, null, ttl, options, undefined) as Bluebird;
  const observed = promise.then(
    (lock) => {
      if (typeof lock === 'object' && lock !== null) call.outcome = { lock };
      settle(call);
      return lock;
    },
    (err: unknown) => {
      call.outcome = { err };
      settle(call);
      throw err;
    },
  );
  // The program's callback, if any, as redlock itself attaches it, now after the grant.
  return typeof observed.nodeify === 'function' ? observed.nodeify(callback) : observed;
}

/** Patches redlock's class once; false when `Redlock` does not have its known shape. */
export function patchRedlock(Redlock: unknown): boolean {
  const proto = (Redlock as { prototype?: Record<string, unknown> } | undefined)?.prototype;
  if (typeof Redlock !== 'function' || !proto || typeof proto._lock !== 'function') return false;
  if (typeof proto.unlock !== 'function') return false;
  if (st.patched.has(proto)) return true;
  st.patched.add(proto);
  const LockError = (Redlock as { LockError?: unknown }).LockError;
  if (typeof LockError === 'function') st.lockError = LockError as typeof st.lockError;

  const lock = proto._lock as LockMethod;
  proto._lock = function (
    this: RedlockState,
    resource: unknown,
    value: unknown,
    ttl: unknown,
    options: unknown,
    callback: unknown,
  ) {
    const servers = this.servers;
    const key = singleKey(resource);
    // An extension (a value given) changes no holder; redlock 4.0's `_lock(resource, value,
    // ttl, callback)` passes its callback as the options.
    if (
      !recording() ||
      value !== null ||
      key === undefined ||
      typeof options === 'function' ||
      !Array.isArray(servers) ||
      servers.length === 0
    ) {
      return lock.call(this, resource, value, ttl, options, callback);
    }
    return observedLock(this, lock, servers, key, resource, ttl, options, callback);
  };

  // `release` is `unlock` under another name; `Lock.prototype.unlock` calls `unlock`. redlock's
  // own retry loop unlocks its failed attempts through it too, with Lock objects nobody holds.
  for (const name of ['unlock', 'release']) {
    const original = proto[name];
    if (typeof original !== 'function') continue;
    const unlock = original as UnlockMethod;
    proto[name] = function (this: RedlockState, lockObject: unknown, callback: unknown) {
      const held =
        typeof lockObject === 'object' && lockObject !== null
          ? st.holds.get(lockObject)
          : undefined;
      if (held) {
        st.holds.delete(lockObject as object);
        released(held.lock, 1, held.hold);
        forgetUnused(st.locks);
      }
      return unlock.call(this, lockObject, callback);
    };
  }
  return true;
}
