/**
 * The redlock adapter (redlock 4, over clients that answer `info` and `client` as ioredis does): a
 * lock of one Redis key is a mutex named `redis "key"`. redlock tries the key on its servers and,
 * while it is taken, tries again after `retryDelay` up to `retryCount` times: that retry loop is
 * the wait, from the first attempt that finds the key taken until the lock is obtained
 * (`acquired`) or redlock gives up with a LockError (the wait timed out). The wait is a bounded
 * one, and a cycle through it is judged as a `withTimeout` acquisition's is, even with
 * `retryCount: -1` (a wait that never gives up): every key a waiter waits for expires at its
 * time-to-live, so such a cycle ends by itself unless its holders extend their locks, and saying
 * it waits forever could be wrong. A lock obtained at the
 * first attempt is acquired without a wait, and a call that does not retry is a try-lock.
 * `unlock` (or `release`, or `Lock.prototype.unlock`) ends the hold at the call, before Redis
 * drops the key.
 *
 * A Redis key is one lock for every process that uses the same server, whatever host name each
 * one reached it by, so its resource carries a global key made of the servers' own identities
 * (`INFO server`'s `run_id` and the connection's database, asked once per client, sorted when
 * redlock has several servers for its quorum) and the key: the analysis takes every process's
 * resource with one global key as one resource, and a wait-for cycle between processes closes as
 * one deadlock.
 *
 * Not observed: a lock of several keys at once (an array of more than one resource), whose
 * all-or-nothing wait is not a wait for one lock; `extend`, which changes no holder; and a lock
 * that expires by its time-to-live while held, which stays held to the analysis (the probe never
 * sees Redis drop the key).
 */
import { clock } from '../clock.js';
import { currentFlow } from '../identity.js';
import { rt, shared, type Flow } from '../runtime.js';
import { withRun } from '../runs.js';
import { siteForBlocking } from '../sync.js';
import {
  foreignLock,
  forgetUnused,
  grantedAtCall,
  tryFailed,
  recording,
  released,
  waitFor,
  waitGaveUp,
  waitGranted,
  type ForeignHold,
  type ForeignLock,
  type ForeignWait,
} from './foreign.js';

/**
 * The versions whose `_lock(resource, value, ttl, options, callback)`, `_random` and `unlock` the
 * adapter reads (tested with 4.2.0; 4.2 added the options).
 */
export const REDLOCK_RANGE = { min: '4.2.0', below: '5.0.0' } as const;

/**
 * A Redis client as the adapter uses it: `INFO` and `CLIENT`, in callback form (ioredis and
 * node-redis 3 both have them).
 */
type Command = (section: string, callback: (err: unknown, text: unknown) => void) => unknown;
interface Client {
  info?: Command;
  client?: Command;
}

interface RedlockState {
  servers?: unknown;
  retryCount?: unknown;
}

/** redlock's `_lock(resource, value, ttl, options, callback)`, which every lock goes through. */
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

type ErrorClass = new (...args: never[]) => unknown;

/** A client's server identity: known, or asked and awaited by the listeners. */
type Identity = string | ((id: string | undefined) => void)[];

const st = shared('adapter-redlock', () => ({
  patched: new WeakSet<object>(),
  /** Each client's server `run_id`, or the calls waiting for the answer to `INFO server`. */
  ids: new WeakMap<object, Identity>(),
  /** The locks of this thread by global key: one per Redis key and server, whichever client. */
  locks: new Map<string, ForeignLock>(),
  /** The hold each Lock object the program got stands for, until it is unlocked. */
  holds: new WeakMap<object, { lock: ForeignLock; hold: ForeignHold; timer?: NodeJS.Timeout }>(),
  /** The call whose `_lock` runs now, until redlock draws its value. */
  starting: undefined as Call | undefined,
  /** The calls not yet settled, by their lock's value. */
  pending: new Map<string, Call>(),
}));

/** A reply's text: a string, or the bytes of a client that returns buffers. */
function textOf(reply: unknown): string {
  if (typeof reply === 'string') return reply;
  return reply instanceof Uint8Array ? new TextDecoder().decode(reply) : '';
}

/** The server's `run_id` in an `INFO server` reply (lines of `field:value`), if it has one. */
export function runIdOf(reply: unknown): string | undefined {
  return /^run_id:([0-9a-f]{40})\r?$/m.exec(textOf(reply))?.[1];
}

/** The connection's database in a `CLIENT INFO` reply (`field=value` pairs), if it has one. */
export function databaseOf(reply: unknown): string | undefined {
  return /(?:^| )db=(\d+)(?: |\r?$)/m.exec(textOf(reply))?.[1];
}

/**
 * The global key of Redis key `key` on the servers `ids` (each `run_id/database`, in any order):
 * the same in every process that locks that key there (foreignLock sends a long one as its
 * digest).
 */
export function globalKey(ids: readonly string[], key: string): string {
  return `redis:${[...ids].sort().join(',')}:${key}`;
}

/** A key's name in findings, kept short. */
function keyName(key: string): string {
  const shown = key.length > 60 ? `${key.slice(0, 57)}...` : key;
  return `redis ${JSON.stringify(shown)}`;
}

/**
 * Calls `then` with the identity of the keys a client reaches, `run_id/database`: at once when it
 * is known, else once `INFO server` and `CLIENT INFO` (Redis 6.2 and later) have answered, with
 * undefined when it cannot be learned (the next call asks again). The questions go out before
 * redlock's own command on the same connection, whose replies come in order, so they are
 * answered before the lock is. A key lives in one of the server's databases, so two processes on
 * one server lock one key only when their connections have one database selected.
 */
function identify(client: unknown, then: (id: string | undefined) => void): void {
  if (typeof client !== 'object' || client === null) return then(undefined);
  const known = st.ids.get(client);
  if (typeof known === 'string') return then(known);
  if (known) {
    known.push(then);
    return;
  }
  const { info, client: clientCommand } = client as Client;
  if (typeof info !== 'function' || typeof clientCommand !== 'function') return then(undefined);
  const waiting = [then];
  st.ids.set(client, waiting);
  let runId: string | undefined;
  let database: string | undefined;
  let answers = 0;
  let failed = false;
  const answered = (): void => {
    if (++answers !== 2) return;
    const id =
      runId !== undefined && database !== undefined && !failed ? `${runId}/${database}` : undefined;
    if (id === undefined) st.ids.delete(client);
    else st.ids.set(client, id);
    for (const w of waiting) w(id);
  };
  try {
    info.call(client, 'server', (err: unknown, reply: unknown) => {
      if (!err) runId = runIdOf(reply);
      answered();
    });
    clientCommand.call(client, 'INFO', (err: unknown, reply: unknown) => {
      if (!err) database = databaseOf(reply);
      answered();
    });
  } catch {
    // A client that cannot take the questions: this call and those waiting run unobserved, once
    // (a question that was sent may still answer, which then finds the count past two).
    failed = true;
    answers = 1;
    answered();
  }
}

/** Calls `then` with the identities of all of `servers`, or undefined if one cannot be learned. */
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
  if (!lock) st.locks.set(global, (lock = foreignLock('mutex', keyName(key), undefined, global)));
  return lock;
}

/** The single key a lock call names, or undefined for several keys (or none). */
function singleKey(resource: unknown): string | undefined {
  if (typeof resource === 'string') return resource;
  if (Array.isArray(resource) && resource.length === 1 && typeof resource[0] === 'string')
    return resource[0];
  return undefined;
}

/** How many times a lock call retries, as redlock reads it (-1: forever). */
function retriesOf(self: RedlockState, options: unknown): number {
  // redlock reads `options.retryCount || self.retryCount`: a 0 in the options falls through too.
  const own = (options as { retryCount?: unknown } | undefined)?.retryCount;
  const count = typeof own === 'number' && own !== 0 ? own : self.retryCount;
  return typeof count === 'number' ? count : 0;
}

/**
 * One observed lock call. Its first attempt that finds the key taken starts the wait, its retry
 * loop; a call that got the key at its first attempt never waited, and one that does not retry
 * is a try-lock. Nothing is recorded until the servers' identity is known.
 */
interface Call {
  readonly flow: Flow;
  readonly site: number;
  /** A call that does not retry (`retryCount: 0`): a try-lock, never a wait. */
  readonly tryLock: boolean;
  /** The LockError of the call's copy of redlock, by which giving up is told from a failure. */
  readonly lockError: ErrorClass | undefined;
  /** The lock, once the servers' identity is known. */
  lock?: ForeignLock;
  /** The lock's value redlock drew, by which its refused attempts are known. */
  value?: string;
  /** Set when an attempt found the key taken. */
  refused: boolean;
  wait?: ForeignWait;
  /** The Lock object obtained, or the error redlock gave up with. */
  outcome?: { lock: object } | { err: unknown };
}

/** Starts the wait of a call whose attempt was refused, once its lock is known. */
function startWait(call: Call): void {
  const { flow, lock } = call;
  if (!lock || !call.refused || call.wait || call.outcome || call.tryLock) return;
  // Bounded whatever its retries: the keys it waits for expire (see the top of this file).
  call.wait = waitFor(lock, flow, call.site, 1, true);
}

/** Records the outcome of a call: the grant and its hold, or the end of its wait. */
function settle(call: Call): void {
  const { flow, lock, wait, outcome } = call;
  if (!lock || !outcome) return;
  if ('lock' in outcome) {
    if (wait) waitGranted(wait);
    else grantedAtCall(lock, flow, call.site, 1, call.tryLock);
    const hold = lock.holds[lock.holds.length - 1];
    if (hold) {
      st.holds.set(outcome.lock, { lock, hold });
      expireAt(outcome.lock);
    }
    return;
  }
  if (wait) {
    // A LockError is redlock giving up after its retries; anything else ends the wait as well.
    const gaveUp = call.lockError !== undefined && outcome.err instanceof call.lockError;
    waitGaveUp(wait, gaveUp ? 'timeout' : 'cancel');
  } else if (call.refused) tryFailed(lock, flow, call.site);
}

function observedLock(
  self: RedlockState,
  original: LockMethod,
  lockError: ErrorClass | undefined,
  servers: readonly unknown[],
  key: string,
  [resource, ttl, options]: [unknown, unknown, unknown],
  callback: unknown,
): unknown {
  const call: Call = {
    flow: currentFlow(),
    site: siteForBlocking(),
    tryLock: retriesOf(self, options) === 0,
    lockError,
    refused: false,
  };
  // redlock's code and the client's run in a run of the probe's own: their promises are theirs,
  // not the program's. Made in the program's run, they would be suspensions before the program's
  // own `await` of what this returns, to which the call's operations belong (runs.ts).
  const promise = withRun(rt.rootCtx, () => {
    // Asked before redlock sends its own command, so that the servers answer it first.
    identifyAll(servers, (ids) => {
      // Known only after the lock was obtained (or given up), which does not happen while
      // replies come in order: nothing is recorded, rather than a hold whose release may already
      // be past.
      if (!ids || call.outcome) return;
      call.lock = lockOf(ids, key);
      startWait(call);
    });
    // redlock draws the lock's value (`_random`) as the call begins: by it, the unlock of a
    // refused attempt is told to be this call's.
    st.starting = call;
    try {
      return original.call(self, resource, null, ttl, options, undefined) as Bluebird;
    } finally {
      st.starting = undefined;
    }
  });
  const observed = promise.then(
    (lock) => {
      // Anything but a Lock object ends the wait without a hold the program could release.
      call.outcome = typeof lock === 'object' && lock !== null ? { lock } : { err: lock };
      end(call);
      return lock;
    },
    (err: unknown) => {
      call.outcome = { err };
      end(call);
      throw err;
    },
  );
  // The program's callback, if any, as redlock itself attaches it, now after the grant.
  return typeof observed.nodeify === 'function' ? observed.nodeify(callback) : observed;
}

function end(call: Call): void {
  if (call.value !== undefined) st.pending.delete(call.value);
  settle(call);
}

/**
 * Ends the hold of a Lock object at its `expiration` (epoch ms, the program's clock, as redlock
 * reads it): Redis drops the key then, and another call may take it. A hold kept past it would
 * make a later wait for the key a cycle through a lock nobody holds (a false deadlock). An
 * `extend` moves `expiration` on the same object: the timer then waits again. redlock's
 * expiration is a little earlier than Redis's (clock drift), so the hold ends no later than the
 * key: a cycle in between is missed, never invented.
 */
function expireAt(lockObject: object): void {
  const expiration = (lockObject as { expiration?: unknown }).expiration;
  if (typeof expiration !== 'number' || !Number.isFinite(expiration)) return;
  const left = Math.max(0, expiration - Date.now());
  const entry = st.holds.get(lockObject);
  if (!entry) return;
  entry.timer = clock
    .setTimeout(
      () => {
        const held = st.holds.get(lockObject);
        if (!held) return;
        const now = (lockObject as { expiration?: unknown }).expiration;
        if (typeof now === 'number' && now > Date.now()) {
          expireAt(lockObject);
          return;
        }
        st.holds.delete(lockObject);
        released(held.lock, 1, held.hold);
        forgetUnused(st.locks);
      },
      Math.min(left + 1, 2 ** 31 - 1),
    )
    .unref();
}

/**
 * The unlock of a Lock object the program holds ends its hold; one of an attempt redlock's retry
 * loop undoes (a refused attempt, not the program's) starts its call's wait.
 */
function unlocking(lockObject: unknown): void {
  if (typeof lockObject !== 'object' || lockObject === null) return;
  const held = st.holds.get(lockObject);
  if (held) {
    st.holds.delete(lockObject);
    held.timer?.close();
    released(held.lock, 1, held.hold);
    forgetUnused(st.locks);
    return;
  }
  const value = (lockObject as { value?: unknown }).value;
  const call = typeof value === 'string' ? st.pending.get(value) : undefined;
  if (!call || call.refused) return;
  call.refused = true;
  startWait(call);
}

/** Patches redlock's class once; false when `Redlock` does not have its known shape. */
export function patchRedlock(Redlock: unknown): boolean {
  const proto = (Redlock as { prototype?: Record<string, unknown> } | undefined)?.prototype;
  if (typeof Redlock !== 'function' || !proto) return false;
  const { _lock: lock, _random: random, unlock } = proto;
  if (typeof lock !== 'function' || typeof random !== 'function' || typeof unlock !== 'function')
    return false;
  if (st.patched.has(proto)) return true;
  st.patched.add(proto);
  const given = (Redlock as { LockError?: unknown }).LockError;
  const lockError = typeof given === 'function' ? (given as ErrorClass) : undefined;

  const originalLock = lock as LockMethod;
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
    // An extension (a value given) changes no holder, and a direct call that passes its callback
    // as the options (`_lock(resource, value, ttl, callback)`) is left alone.
    if (
      !recording() ||
      value !== null ||
      key === undefined ||
      typeof options === 'function' ||
      !Array.isArray(servers) ||
      servers.length === 0
    ) {
      return originalLock.call(this, resource, value, ttl, options, callback);
    }
    return observedLock(
      this,
      originalLock,
      lockError,
      servers,
      key,
      [resource, ttl, options],
      callback,
    );
  };

  const originalRandom = random as (this: unknown) => unknown;
  proto._random = function (this: unknown) {
    const value = originalRandom.call(this);
    const call = st.starting;
    if (call && typeof value === 'string') {
      st.starting = undefined;
      call.value = value;
      st.pending.set(value, call);
    }
    return value;
  };

  // `release` is `unlock` under another name; `Lock.prototype.unlock` calls `unlock`. redlock's
  // own retry loop unlocks its refused attempts through it too.
  for (const name of ['unlock', 'release']) {
    const original = proto[name];
    if (typeof original !== 'function') continue;
    const unlockMethod = original as UnlockMethod;
    proto[name] = function (this: RedlockState, lockObject: unknown, callback: unknown) {
      unlocking(lockObject);
      // With nothing recording, the package's own; else in a run of the probe's own, as a lock
      // call's code is (see observedLock).
      if (!recording()) return unlockMethod.call(this, lockObject, callback);
      return withRun(rt.rootCtx, () => unlockMethod.call(this, lockObject, callback));
    };
  }
  return true;
}
