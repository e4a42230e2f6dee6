/**
 * The Web Locks adapter: Node's `navigator.locks` (Node 24.5 and later). Each exclusive
 * `request(name, [options,] callback)` is recorded as a request for a mutex named
 * `web lock "name"` (Web Locks grant asynchronously even when the lock is free, so every request
 * is a wait), its grant where Node calls the callback, which the adapter runs as the flow that
 * asked, and its release where the callback's promise settles. `ifAvailable` is a try-lock;
 * `signal` makes the wait one that may give up.
 *
 * Not observed: `mode: "shared"` requests, `steal`, and locks held by other threads (each thread
 * sees its own requests only).
 */
import { currentFlow, resolved, runAs } from '../identity.js';
import { rt, shared, type Flow } from '../runtime.js';
import {
  callSite,
  foreignLock,
  grantedAtCall,
  released,
  tryFailed,
  forgetUnused,
  waitFor,
  waitGaveUp,
  waitGranted,
  type ForeignLock,
  type ForeignWait,
  endAfter,
  observeRejection,
} from './foreign.js';
import type { VersionRange } from './versions.js';

/** The Node versions whose `navigator.locks` the adapter was tested with. */
export const WEB_LOCKS_RANGE: VersionRange = { min: '24.5.0', below: '25.0.0' };

interface LockOptions {
  mode?: string;
  ifAvailable?: boolean;
  steal?: boolean;
  signal?: AbortSignal;
}

type Callback = (lock: unknown) => unknown;
type Request = (
  this: unknown,
  name: unknown,
  options?: unknown,
  callback?: unknown,
) => Promise<unknown>;

const st = shared('adapter-web-locks', () => ({
  locks: new Map<string, ForeignLock>(),
  patched: false,
}));

function lockOf(name: string): ForeignLock {
  let lock = st.locks.get(name);
  if (!lock) {
    const shown = name.length > 60 ? `${name.slice(0, 57)}...` : name;
    st.locks.set(name, (lock = foreignLock('mutex', `web lock ${JSON.stringify(shown)}`)));
  }
  return lock;
}

/** One request as the adapter follows it. */
interface Pending {
  readonly lock: ForeignLock;
  readonly flow: Flow;
  site: number;
  readonly tryLock: boolean;
  /** True while Node's `request()` runs: a grant then is synchronous, the lock was free. */
  inRequest: boolean;
  /** Set when Node calls the callback. */
  called: boolean;
  /** The wait, once the request returned without a grant. */
  wait: ForeignWait | undefined;
}

/** The callback as Node will call it: grant recorded, run as the asking flow, release recorded. */
function observedCallback(req: Pending, callback: Callback): Callback {
  const { lock, flow } = req;
  return (granted: unknown) => {
    req.called = true;
    if (req.tryLock) {
      if (granted === null) tryFailed(lock, flow, req.site);
      else grantedAtCall(lock, flow, req.site, 1, true);
    } else if (req.wait) waitGranted(req.wait);
    else grantedAtCall(lock, flow, req.site);
    const hold = granted === null ? undefined : lock.holds[lock.holds.length - 1];
    let done = hold === undefined;
    const end = (): void => {
      if (done) return;
      done = true;
      released(lock, 1, hold);
      forgetUnused(st.locks);
    };
    // Node grants a free lock synchronously inside `request()`, in the asking flow's own run,
    // where the identity rules follow the callback by themselves; a later grant comes from
    // another flow's release and runs as the flow that asked. Node's own reaction to the result,
    // which releases the lock, comes after `end`'s.
    return endAfter(
      () => (req.inRequest ? callback(granted) : runAs(resolved(flow), () => callback(granted))),
      end,
    );
  };
}

function observedRequest(
  this: unknown,
  original: Request,
  name: unknown,
  a: unknown,
  b: unknown,
): Promise<unknown> {
  const callback = b === undefined ? a : b;
  const options = (b === undefined ? undefined : a) as LockOptions | undefined;
  if (typeof callback !== 'function' || typeof name !== 'string')
    return original.call(this, name, a, b);
  if (options && (options.mode === 'shared' || options.steal === true))
    return original.call(this, name, a, b);
  const lock = lockOf(name);
  const flow = currentFlow();
  const tryLock = options?.ifAvailable === true;
  const req: Pending = {
    lock,
    flow,
    site: callSite(lock, flow, false),
    tryLock,
    inRequest: true,
    called: false,
    wait: undefined,
  };
  const observed = observedCallback(req, callback as Callback);
  let result: Promise<unknown>;
  try {
    result =
      b === undefined
        ? original.call(this, name, observed)
        : original.call(this, name, a, observed);
  } finally {
    req.inRequest = false;
  }
  const signal = options?.signal;
  // Not granted during the call: the request waits (a try-lock's answer is on its way, and a
  // request whose signal is already aborted rejects without waiting).
  if (!req.called && !tryLock && !signal?.aborted) {
    if (req.site === 0) req.site = callSite(lock, flow, true);
    req.wait = waitFor(lock, flow, req.site, 1, signal !== undefined);
    // A wait with a signal ends without a grant when it is aborted.
    const wait = req.wait;
    if (signal) return observeRejection(result, () => waitGaveUp(wait, 'cancel'));
  }
  return result;
}

/**
 * Patches `navigator.locks`'s prototype, where Node has it. On a Node version outside `range`
 * the first request says so once (through `supported`) and goes on unpatched from then on.
 */
export function patchWebLocks(
  range: VersionRange,
  supported: (name: 'web-locks', version: string, range: VersionRange) => boolean,
): void {
  if (st.patched) return;
  const nav = (globalThis as { navigator?: { locks?: object } }).navigator;
  const locks = nav?.locks;
  if (!locks) return;
  const proto = Object.getPrototypeOf(locks) as { request?: Request } | null;
  const original = proto?.request;
  if (!proto || typeof original !== 'function') return;
  st.patched = true;
  let ok: boolean | undefined;
  proto.request = function request(this: unknown, name: unknown, a?: unknown, b?: unknown) {
    if (ok === undefined) {
      ok = supported('web-locks', process.versions.node, range);
      if (!ok) proto.request = original;
    }
    if (!ok || !rt.recording) return original.call(this, name, a, b);
    return observedRequest.call(this, original, name, a, b);
  };
}
