/**
 * Observing a foreign lock: a lock of another package (async-mutex, async-lock, Web Locks) that
 * the program uses unchanged. An adapter patches the package's classes so that each of their
 * acquisitions, waits and releases calls the functions here, which record the same events as
 * lockscope's own primitives do (a `request` for a wait, `acquired`, `released`, `timeout`,
 * `cancel`), attributed to the flow current at the call (identity.ts) and sited at the program's
 * line (the package's own frames are skipped, sites.ts).
 *
 * The foreign package keeps its own state and semantics; this layer only shadows who holds and
 * who waits, so that a release can be attributed to its holder (a releaser function or
 * `release()` of async-mutex names no holder) and a grant to the flow that asked.
 */
import { createHash } from 'node:crypto';
import { currentFlow, resolved } from '../identity.js';
import { rt, type Flow, type ResourceRec } from '../runtime.js';
import { liveHolds, Misuse, Op, newResource, siteFor, sync, type OpCode } from '../sync.js';
import { whenDecided } from '../runs.js';
import { MAX_GLOBAL_KEY } from '../protocol.js';

/** The kinds of resource a foreign lock is reported as. */
export type ForeignKind = 'mutex' | 'semaphore';

/** One foreign lock as the probe sees it: its resource and who holds it now. */
export interface ForeignLock {
  readonly res: ResourceRec;
  /** Holds in the order they were granted; a mutex has at most one. */
  readonly holds: ForeignHold[];
  /** Waits not yet granted or given up. */
  waits: number;
}

/** A hold (or the permits of one acquisition) of a foreign lock. */
export interface ForeignHold {
  flow: Flow;
  site: number;
  n: number;
}

/** A wait for a foreign lock, from its request until it is granted or given up. */
export interface ForeignWait {
  readonly lock: ForeignLock;
  readonly flow: Flow;
  readonly site: number;
  readonly n: number;
  /** Set once the wait ended (granted, timed out, cancelled): later ends are ignored. */
  ended: boolean;
}

/**
 * A foreign lock, registered like a primitive of `kind`. A lock the package knows by a name (an
 * async-lock key, a Web Lock's name: `async-lock "orders"`) is named so in findings, and the name
 * is its lock class, so that the lock-order analysis sees it as one lock however many times the
 * adapter forgets it between uses (`forgetUnused`). Without a name, the class is the site of the call
 * that made it known, as for a primitive made there. A lock a server keeps (Redis, PostgreSQL)
 * passes its `global` key: the server's identity and the lock's key.
 */
export function foreignLock(
  kind: ForeignKind,
  name?: string,
  capacity?: number,
  global?: string,
): ForeignLock {
  const res = newResource(kind, name === undefined ? undefined : { name, class: name }, capacity);
  // A lock a server keeps is one resource in every process that uses it (ResourceMessage.global).
  // A key too long to send is sent as its digest: cut short, two keys could become one.
  if (global !== undefined) {
    res.global =
      global.length <= MAX_GLOBAL_KEY
        ? global
        : `sha256:${createHash('sha256').update(global).digest('hex')}`;
  }
  return { res, holds: [], waits: 0 };
}

/** The flow of a call on a foreign lock and its site, for a call that will wait or not. */
export function callSite(lock: ForeignLock, flow: Flow, waits: boolean): number {
  return siteFor(lock.res, flow, waits);
}

/**
 * Records a grant at the call (the lock was free): `try` for a non-blocking attempt, which the
 * lock-order analysis does not count as a possible deadlock.
 */
export function grantedAtCall(
  lock: ForeignLock,
  flow: Flow,
  site: number,
  n = 1,
  tryLock = false,
): void {
  grant(lock, flow, site, n, tryLock ? Op.tryAcquired : Op.acquired);
}

function grant(lock: ForeignLock, flow: Flow, site: number, n: number, op: OpCode): void {
  lock.holds.push({ flow, site, n });
  liveHolds.count++;
  sync(op, flow, lock.res, site, lock.res.kind === 'semaphore' ? n : 0);
}

/**
 * Records that `flow` now waits for the lock. `bounded`: the wait may give up by itself (a
 * timeout, a signal), so a cycle through it is never a certain deadlock.
 */
export function waitFor(
  lock: ForeignLock,
  flow: Flow,
  site: number,
  n = 1,
  bounded = false,
): ForeignWait {
  const mutex = lock.res.kind === 'mutex';
  const held = mutex ? lock.holds[0] : undefined;
  if (held && resolved(held.flow).id === resolved(flow).id) {
    // A provisional caller may yet turn out to be a flow of its own: judged once decided.
    whenDecided(flow, () => {
      if (lock.holds[0] === held && resolved(held.flow).id === resolved(flow).id) {
        sync(Op.misuse, flow, lock.res, site, Misuse.selfDeadlock);
      }
    });
  }
  flow.blocked = true;
  lock.waits++;
  sync(bounded ? Op.requestBounded : Op.request, flow, lock.res, site, mutex ? 0 : n);
  return { lock, flow, site, n, ended: false };
}

/** Records the grant of a wait. */
export function waitGranted(w: ForeignWait): void {
  if (w.ended) return;
  w.ended = true;
  w.flow.blocked = false;
  w.lock.waits--;
  grant(w.lock, w.flow, w.site, w.n, Op.acquired);
}

/** Records that a wait gave up: after its timeout, or cancelled (an abort, async-mutex's cancel). */
export function waitGaveUp(w: ForeignWait, reason: 'timeout' | 'cancel'): void {
  if (w.ended) return;
  w.ended = true;
  w.flow.blocked = false;
  w.lock.waits--;
  sync(reason === 'timeout' ? Op.timeout : Op.cancel, w.flow, w.lock.res, w.site);
}

/** Records a failed non-blocking attempt. */
export function tryFailed(lock: ForeignLock, flow: Flow, site: number, n = 1): void {
  sync(Op.tryFailed, flow, lock.res, site, lock.res.kind === 'semaphore' ? n : 0);
}

/**
 * Records a release of `n` permits (1 for a mutex), attributed to a hold: `hold` when the
 * adapter knows it, else a hold of the releasing flow, else the oldest. A release nobody holds
 * (a semaphore used as a signal) is the releasing flow's.
 */
export function released(lock: ForeignLock, n = 1, hold?: ForeignHold): void {
  const holds = lock.holds;
  let at = hold ? holds.indexOf(hold) : -1;
  if (at < 0 && holds.length > 1) {
    const me = resolved(currentFlow()).id;
    at = holds.findIndex((h) => resolved(h.flow).id === me);
  }
  if (at < 0 && holds.length > 0) at = 0;
  const semaphore = lock.res.kind === 'semaphore';
  if (at < 0) {
    sync(Op.released, currentFlow(), lock.res, 0, semaphore ? n : 0);
    return;
  }
  const h = holds[at]!;
  holds.splice(at, 1);
  liveHolds.count--;
  sync(Op.released, h.flow, lock.res, 0, semaphore ? n : 0);
}

/** How many locks known by name an adapter keeps before it forgets those nobody uses. */
export const KEPT_BY_NAME = 1024;

/**
 * Forgets, once `locks` holds more than KEPT_BY_NAME, the locks nobody holds or waits for: an
 * adapter that knows its locks by name (a key, a Web Lock's name) keeps one resource per name
 * while a program uses a few names, and no more than it uses when it makes ever new ones. The
 * next use of a forgotten name is a new resource of the same class; the old one is collected.
 */
export function forgetUnused<K>(locks: Map<K, ForeignLock>): void {
  if (locks.size <= KEPT_BY_NAME) return;
  for (const [name, lock] of locks) {
    if (lock.holds.length === 0 && lock.waits === 0) locks.delete(name);
  }
}

/** Whether the probe records now: with no sink attached an adapter goes straight to the package. */
export function recording(): boolean {
  return rt.recording;
}

/**
 * Runs a lock's critical section and calls `end` when it is over: when it throws, when the promise
 * it returns settles, or at once for any other result. `end` is registered before the package's
 * own reaction to the promise, so that the release is recorded before the next holder's grant;
 * a thenable that is not a native promise is left alone (calling its `then` twice could have
 * effects) and its hold ends at once.
 */
export function endAfter(section: () => unknown, end: () => void): unknown {
  let result: unknown;
  try {
    result = section();
  } catch (err) {
    end();
    throw err;
  }
  if (result instanceof Promise) result.then(end, end);
  else end();
  return result;
}

/**
 * The promise to give the program in place of `result`: it settles as `result` does, and `seen`
 * learns of a rejection first. The program's handling (or not) of the rejection stays its own: a
 * rejection it never handles is still reported as unhandled, as without the adapter (a handler
 * on `result` itself would have marked it handled). It settles one microtask after `result`.
 */
export function observeRejection<T>(result: Promise<T>, seen: () => void): Promise<T> {
  return result.then(undefined, (err: unknown) => {
    seen();
    throw err;
  });
}
