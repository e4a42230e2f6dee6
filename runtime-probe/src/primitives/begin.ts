/**
 * The shared first steps of every blocking call that cannot complete at once: an already aborted
 * signal rejects, `timeout: 0` rejects, anything else queues the waiter and returns its promise.
 */
import { rt, type Flow, type ResourceRec } from '../runtime.js';
import { keepTogether } from '../recorder.js';
import { Op, sync, type OpCode } from '../sync.js';
import {
  alreadyAborted,
  immediateTimeout,
  isBounded,
  type BlockOptions,
  type WaitList,
  type Waiter,
} from '../waiting.js';

export function block<T, D>(
  waiter: Waiter<T, D>,
  list: WaitList<T, D> | undefined,
  res: ResourceRec,
  options: BlockOptions | undefined,
  method: string,
  op: OpCode,
  n = 0,
  giveUp?: (w: Waiter<T, D>, reason: 'timeout' | 'cancel') => void,
  peer = 0,
): Promise<T> {
  const what = `${res.name}.${method}()`;
  const signal = options?.signal;
  if (signal?.aborted) {
    sync(Op.cancel, waiter.flow, res, waiter.site);
    return Promise.reject(alreadyAborted(signal, what));
  }
  if (options?.timeout === 0) {
    sync(Op.timeout, waiter.flow, res, waiter.site);
    return Promise.reject(immediateTimeout(what));
  }
  list?.push(waiter);
  if (rt.config.failFast) keepTogether(2);
  // A request that may give up says so: a cycle through it is not a deadlock for certain.
  sync(
    op === Op.request && isBounded(options) ? Op.requestBounded : op,
    waiter.flow,
    res,
    waiter.site,
    n,
    peer,
  );
  return waiter.start(res, options, what, giveUp);
}

/**
 * The web convention for a blocking call whose signal is already aborted: it rejects before it
 * takes anything, even what is free. Returns that rejection, or undefined to go on. The call's
 * description is only built on this rare path.
 */
export function rejectIfAborted(
  options: BlockOptions | undefined,
  flow: Flow,
  res: ResourceRec,
  site: number,
  method: string,
  n = 0,
): Promise<never> | undefined {
  const signal = options?.signal;
  if (!signal?.aborted) return undefined;
  sync(Op.cancel, flow, res, site, n);
  return Promise.reject(alreadyAborted(signal, `${res.name}.${method}()`));
}
