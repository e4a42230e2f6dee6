import { TimeoutError, abortErrorFor } from '../errors.js';
import { currentFlow } from '../identity.js';
import type { ResourceRec } from '../runtime.js';
import { Op, siteForBlocking, sync } from '../sync.js';
import {
  alreadyAborted,
  checkOptions,
  MAX_TIMER_MS,
  type BlockOptions,
  type Waiter,
} from '../waiting.js';
import type { Channel, RecvResult, SelectCaseRef } from './channel.js';
import { gated, mustGate, startTimeout } from '../explore/hooks.js';

/**
 * A channel of any element type. Channel<T> is invariant in T (its waiters both take and give T),
 * so Channel<unknown> would not accept a Channel<number>; `any` here is what lets typed channels
 * be select cases. select() only moves values through as `unknown`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above: Channel<T> is invariant
type AnyChannel = Channel<any>;

/** A receive case: `{ recv: channel }`; a send case: `{ send: channel, value }`. */
export type SelectCase = { recv: AnyChannel } | { send: AnyChannel; value: unknown };

/** Options of select(). */
export interface SelectOptions extends BlockOptions {
  /** Go's `default:` case: when no case is ready, resolve at once with index -1. */
  default?: boolean;
}

/**
 * The outcome of select(). `index` is the position of the case that fired, or -1 for the default
 * case. For a receive case, `ok` and `value` are as in recv(); for a send case `ok` is true.
 */
export interface SelectResult {
  /** The position of the case that fired, or -1 for the default case. */
  index: number;
  /** For a receive, false when the channel was closed and drained; true for a send. */
  ok: boolean;
  /** The value received (undefined for a send, or a closed channel). */
  value: unknown;
}

/**
 * Waits until one of several channel operations can proceed and performs exactly that one, like
 * Go's `select`. When several are ready at once one is chosen at random, so no case starves. A
 * send case on a closed channel rejects with ChannelClosedError, as a plain send would. With
 * `default: true` it never blocks; with `timeout` it rejects with TimeoutError, and with `signal`
 * with an AbortError.
 */
export function select(
  cases: readonly SelectCase[],
  options?: SelectOptions,
): Promise<SelectResult> {
  if (options !== undefined) checkOptions(options, 'select()');
  // Checked as unknown: Array.isArray would narrow a readonly array to any[].
  const list: unknown = cases;
  if (!Array.isArray(list)) throw new TypeError('select(): cases must be an array');
  if (mustGate()) return gated(undefined, 'select', () => select(cases, options));
  const flow = currentFlow();
  const site = siteForBlocking();
  const signal = options?.signal;
  if (signal?.aborted) return Promise.reject(alreadyAborted(signal, 'select()'));
  const ready: number[] = [];
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]!;
    if ('recv' in c ? c.recv.canRecv() : c.send.canSend()) ready.push(i);
  }
  if (ready.length > 0) {
    const i = ready[Math.floor(Math.random() * ready.length)]!;
    const c = cases[i]!;
    if ('recv' in c) {
      const r: RecvResult<unknown> = c.recv.recvNow(flow, site);
      return Promise.resolve({ index: i, ok: r.ok, value: r.value });
    }
    const closed = c.send.sendNow(flow, site, c.value);
    if (closed) return Promise.reject(closed);
    return Promise.resolve({ index: i, ok: true, value: undefined });
  }
  if (options?.default) return Promise.resolve({ index: -1, ok: false, value: undefined });
  if (options?.timeout === 0) {
    for (const c of cases) sync(Op.timeout, flow, resourceOf(c), site);
    return Promise.reject(new TimeoutError('select() had no ready case (timeout: 0)', 0));
  }
  return new Promise<SelectResult>((resolve, reject) => {
    const parked: Waiter<unknown, unknown>[] = [];
    let cancelTimer: (() => void) | undefined;
    let onAbort: (() => void) | undefined;
    let done = false;
    const settle = (): void => {
      done = true;
      flow.blocked = false;
      for (const w of parked) w.list?.remove(w);
      cancelTimer?.();
      if (signal && onAbort) signal.removeEventListener('abort', onAbort);
    };
    const refs: SelectCaseRef[] = cases.map((_, index) => ({
      index,
      claim: () => {
        if (done) return false;
        settle();
        return true;
      },
      finish: (i, ok, value) => resolve({ index: i, ok, value }),
      fail: (err) => reject(err),
    }));
    flow.blocked = true;
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i]!;
      parked.push(
        ('recv' in c
          ? c.recv.parkReceiver(flow, site, refs[i]!)
          : c.send.parkSender(flow, site, c.value, refs[i]!)) as Waiter<unknown, unknown>,
      );
    }
    const giveUp = (op: typeof Op.timeout | typeof Op.cancel, err: Error): void => {
      if (done) return;
      settle();
      for (const c of cases) sync(op, flow, resourceOf(c), site);
      reject(err);
    };
    const timeout = options?.timeout;
    if (timeout !== undefined && timeout <= MAX_TIMER_MS) {
      cancelTimer = startTimeout(flow, site, timeout, () =>
        giveUp(Op.timeout, new TimeoutError(`select() timed out after ${timeout} ms`, timeout)),
      );
    }
    if (signal) {
      onAbort = () => giveUp(Op.cancel, abortErrorFor(signal, 'select()'));
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
}

function resourceOf(c: SelectCase): ResourceRec {
  return 'recv' in c ? c.recv.resource : c.send.resource;
}
