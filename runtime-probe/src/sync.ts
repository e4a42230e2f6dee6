/**
 * The sync point: every operation of every primitive goes through `sync()`.
 *
 * Today it records the event when a sink is attached. It is also the one place where a controlled
 * scheduler will interpose for step-through (a later issue): because every operation, blocking or
 * not, passes here with its task, resource and kind, a scheduler can hold a task back before its
 * operation takes effect without any primitive knowing about it.
 */
import { rt, newId, shared, type Flow, type ResourceRec } from './runtime.js';
import { record } from './recorder.js';
import { captureSite, siteOf } from './sites.js';

/** Operation codes, the indices of OPS in protocol.ts (a unit test keeps them in step). */
export const Op = {
  request: 1,
  acquired: 2,
  released: 3,
  tryFailed: 4,
  wait: 5,
  wake: 6,
  notify: 7,
  set: 8,
  clear: 9,
  arrive: 10,
  pass: 11,
  broken: 12,
  add: 13,
  send: 14,
  receive: 15,
  close: 16,
  timeout: 17,
  cancel: 18,
  error: 19,
  misuse: 20,
  taskStart: 21,
  taskEnd: 22,
  join: 23,
  guardCollected: 24,
  threadStart: 25,
  threadExit: 26,
  abandoned: 27,
  heldLong: 28,
  tryAcquired: 29,
  collected: 30,
  threadCut: 31,
  handedOn: 32,
  requestBounded: 33,
  judging: 34,
} as const;
export type OpCode = (typeof Op)[keyof typeof Op];

/** Misuse codes, the indices of MISUSE_CODES in protocol.ts. */
export const Misuse = {
  releaseNotHeld: 1,
  releaseByNonOwner: 2,
  overRelease: 3,
  waitWithoutLock: 4,
  unbalancedRelease: 5,
  selfDeadlock: 6,
  extraTaskDone: 7,
} as const;

/** Error codes, the indices of ERROR_CODES in protocol.ts. */
export const ErrorCode = {
  deadlockVictim: 1,
} as const;

export function sync(
  op: OpCode,
  flow: Flow,
  res: ResourceRec | undefined,
  site = 0,
  n = 0,
  peer = 0,
): void {
  if (rt.recording) record(op, flow, res, site, n, peer);
}

/** Captures the caller's site for a blocking call, if recording and the stack mode wants it. */
export function siteForBlocking(): number {
  return rt.recording && rt.config.stacks !== 'off' ? captureSite() : 0;
}

/**
 * How many uses in a row of one resource by one flow capture their site in the default mode:
 * a flow's first passes through its code, where the sites of most findings are first made.
 */
export const FIRST_USES = 16;

/** Guards of this thread that hold (primitives/guard.ts, shared/guard.ts keep the count). */
export const liveHolds = shared('live-holds', () => ({ count: 0 }));

/**
 * The site of an acquisition, or of another call that may block, where a finding can name it.
 * A capture costs a microsecond or more, several uncontended acquisitions' worth, so the default
 * `blocking` mode captures only where a site can appear in a finding:
 *
 * - a call that will wait (`waits`): its wait is in every blocking finding;
 * - any call while this thread holds a lock: a nested acquisition is an edge of the lock order,
 *   and a wait under a lock a deadlock's;
 * - the first FIRST_USES uses in a row of a resource by a flow: a flow's first pass (its first
 *   call among them, whose site names an automatic flow, a provisional one too: runs.ts), and
 *   every use of a flow that takes several locks in turn (the outer lock of a nested pair, the
 *   holder in a deadlock).
 *
 * What is left is a flow taking one lock alone again and again, past its first passes, which is
 * recorded without a site; a finding about such a hold names its holder and lock without a line.
 * `all` captures every call.
 */
export function siteFor(res: ResourceRec, flow: Flow, waits: boolean): number {
  if (!rt.recording) return 0;
  const mode = rt.config.stacks;
  if (mode === 'off') return 0;
  if (flow.siteRes !== res.id) {
    flow.siteRes = res.id;
    flow.siteUses = 0;
  }
  const uses = (flow.siteUses = (flow.siteUses ?? 0) + 1);
  return waits || mode === 'all' || liveHolds.count > 0 || uses <= FIRST_USES ? captureSite() : 0;
}

/**
 * Captures the caller's site for a non-blocking call, only in the `all` stack mode. A failed
 * try-lock is the exception (`site || siteForBlocking()` at each): retries are where livelocks and
 * busy-waiting show, and a failure is already the slow path.
 */
export function siteForOther(): number {
  return rt.recording && rt.config.stacks === 'all' ? captureSite() : 0;
}

/** Options every primitive takes. */
export interface ResourceOptions {
  /** A name shown in reports; defaults to the kind and a number. */
  name?: string;
  /**
   * The lock class for lock-order analysis. Defaults to the construction site, so that locks made
   * at one place in the code (five forks made in one loop) form one class.
   */
  class?: string;
}

// Shared by both builds, so that default names do not repeat (see runtime.ts).
const counters = shared('resource-counters', () => new Map<string, number>());

/** Registers a new resource. Its registry message is sent with the first event that uses it. */
export function newResource(
  kind: string,
  options: ResourceOptions | undefined,
  capacity?: number,
  policy?: string,
): ResourceRec {
  const n = (counters.get(kind) ?? 0) + 1;
  counters.set(kind, n);
  const name = options?.name ?? `${kind} ${n}`;
  const site = siteForBlocking();
  const where = site ? siteOf(site) : undefined;
  return {
    id: newId(rt),
    kind,
    name,
    cls: options?.class ?? (where ? `${where.file}:${where.line}:${where.column}` : name),
    site,
    capacity,
    policy,
    sentIn: -1,
  };
}
