/**
 * The probe's side of the controlled scheduler (`lockscope explore`, explore/scheduler.ts).
 *
 * While a scheduler is installed (`rt.explore`), every call that can suspend a flow (acquire,
 * wait, send, receive, select, join, and a task's start) first waits at a gate until the
 * scheduler chooses it, and time is virtual: `sleep` and every timeout become timers that fire
 * when the scheduler chooses them. Calls that cannot suspend (release, tryAcquire, notify, set,
 * close) run on to the flow's next gate. Nothing here runs unless a scheduler is installed; the
 * primitives' only cost is reading `rt.explore`.
 */
import { callingFlow, ctxOf, resolved } from '../identity.js';
import { withRun } from '../runs.js';
import { rt, type Flow, type ResourceRec } from '../runtime.js';
import { siteForBlocking } from '../sync.js';

/** What a scheduler offers the primitives. */
export interface ExploreHooks {
  /** Parks `flow` before its call `op` on `res`; `proceed` runs when the scheduler chooses it. */
  park(
    flow: Flow,
    res: ResourceRec | undefined,
    op: string,
    site: number,
    proceed: () => void,
  ): void;
  /** A virtual timer of `ms`, which runs `fire` when chosen. Returns its handle for `cancel`. */
  timer(flow: Flow, ms: number, op: 'sleep' | 'timeout', site: number, fire: () => void): number;
  /** Forgets a timer that has not fired (its wait ended otherwise). */
  cancel(handle: number): void;
  /** Lets every call `flow` has parked go on, in order: it is making another call. */
  settle(flow: Flow): void;
  /**
   * The site of the call whose gate has just opened, for the call's own capture (it runs from
   * the scheduler, whose stack does not show the caller); 0 once taken.
   */
  site: number;
  /** True while a call chosen at its gate starts, so that it does not wait at a gate again. */
  open: boolean;
  /**
   * The run under way: what the garbage collector finds of an earlier run (a guard dropped while
   * held) belongs to that run, not to this one, and is not recorded.
   */
  run: number;
}

/** Whether a blocking call must first wait at its gate: a scheduler runs, and it was not chosen. */
export function mustGate(): boolean {
  const hooks = rt.explore;
  return hooks !== undefined && !hooks.open;
}

/**
 * Runs the blocking call `go` once the scheduler chooses it, as the flow that made the call: the
 * caller gets a plain promise, as from the call itself, so that identity sees the same shapes as
 * without a scheduler. The flow and site are taken now, where the caller's stack shows them.
 */
export function gated<T>(
  res: ResourceRec | undefined,
  op: string,
  go: () => Promise<T>,
): Promise<T> {
  const hooks = rt.explore!;
  const flow = callingFlow();
  const site = siteForBlocking();
  return new Promise<T>((resolve, reject) => {
    hooks.park(flow, res, op, site, () => {
      hooks.site = site;
      hooks.open = true;
      let result: Promise<T>;
      try {
        result = withRun(ctxOf(resolved(flow)), go);
      } catch (err) {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the call's own error, as it threw it.
        reject(err);
        return;
      } finally {
        hooks.site = 0;
        hooks.open = false;
      }
      result.then(resolve, reject);
    });
  });
}

/** A task's start under the scheduler: resolves when the scheduler chooses it. */
export function startGate(
  hooks: ExploreHooks,
  flow: Flow,
  res: ResourceRec,
  site: number,
): Promise<void> {
  return new Promise<void>((resolve) => hooks.park(flow, res, 'start', site, resolve));
}

/**
 * Starts a sleep or a wait's timeout: a real timer of the program's, or a virtual one under the
 * scheduler. Returns what cancels it.
 */
export function startTimeout(
  flow: Flow,
  site: number,
  ms: number,
  fire: () => void,
  op: 'sleep' | 'timeout' = 'timeout',
): () => void {
  const hooks = rt.explore;
  if (hooks) {
    const handle = hooks.timer(flow, ms, op, site, fire);
    return () => hooks.cancel(handle);
  }
  // The program's own timers, looked up at the call (clock.ts: its tests may fake them).
  const timer = setTimeout(fire, ms);
  return () => clearTimeout(timer);
}
