/**
 * Task identity: which task performed an operation.
 *
 * Exact for tasks made with `spawn()` (each runs in its own AsyncLocalStorage context) and for the
 * main flow of each thread. For un-annotated concurrency, such as
 * `await Promise.all(philosophers.map((p) => p.dine()))`, identity is a heuristic:
 *
 * - An async function that makes a blocking call of the probe is suspended at its `await` until
 *   the current synchronous run ends. So when a second caller reaches the probe in the same run
 *   with the same context, the first one is suspended and the second is a sibling flow. Both get
 *   identities of their own: the first, which acted provisionally as its parent, is renamed (its
 *   events are still in the recorder's buffer, which holds flow objects, so they carry the new
 *   id), and the second gets a fresh context through `enterWith`.
 * - A context object therefore belongs to its owner (the parent) and may have pending claimants:
 *   siblings whose continuation resumes with that context because they awaited while it was
 *   current. The first touch of the context in a later run, after a claimant's blocking call has
 *   settled, is taken to be that claimant's continuation; it gets a context of its own from then
 *   on, and the context reverts to its owner. So the parent's identity does not leak into the
 *   siblings, nor the last sibling's back into the parent after `await Promise.all(...)`.
 *
 * Where the heuristic can be wrong, and what to do: one flow that starts two blocking calls
 * without awaiting the first (`Promise.all([a.acquire(), b.acquire()])`) is taken for two
 * siblings (except `join()`, which is not counted, since joining several tasks at once is
 * common); a sibling whose continuation first touches the probe only after its parent has
 * resumed is mistaken for the parent; and a parent that touches the probe while a sibling it
 * shares a context with is between awaits that are not the probe's (an fs or network call) is
 * mistaken for that sibling. `spawn(name, fn)` gives exact identity in all these cases; a
 * ReentrantMutex judges re-entry by identity, so share one between concurrent flows through it.
 * AsyncLocalStorage is only enabled once the first sibling or spawned task appears, so programs
 * without concurrency pay nothing for it.
 */
import { rt, newId, shared, type Ctx, type Flow } from './runtime.js';

function closeEpoch(): void {
  rt.epoch++;
  rt.epochOpen = false;
}

/** The id of the current synchronous run; a microtask ends it. */
function currentEpoch(): number {
  if (!rt.epochOpen) {
    rt.epochOpen = true;
    queueMicrotask(closeEpoch);
  }
  return rt.epoch;
}

export function makeFlow(name: string, kind: Flow['kind'], parent: Flow | undefined): Flow {
  const id = newId(rt);
  return {
    id,
    name,
    kind,
    parent: parent ? resolved(parent).id : undefined,
    alias: undefined,
    blocked: false,
    sentIn: -1,
  };
}

/** The flow whose identity `flow` acts with: itself, or the owner it is a provisional alias of. */
export function resolved(flow: Flow): Flow {
  return flow.alias ?? flow;
}

function enter(ctx: Ctx): void {
  rt.alsEnabled = true;
  rt.als.enterWith(ctx);
}

export function newCtx(flow: Flow, epoch: number): Ctx {
  return { owner: flow, run: epoch, flow, suspended: false, claims: undefined };
}

function takeReadyClaim(ctx: Ctx): Flow | undefined {
  const claims = ctx.claims;
  if (!claims) return undefined;
  for (let i = 0; i < claims.length; i++) {
    const f = claims[i]!;
    if (!f.blocked) {
      claims.splice(i, 1);
      if (claims.length === 0) ctx.claims = undefined;
      return f;
    }
  }
  return undefined;
}

// Shared by both builds, so that flow names do not repeat (see runtime.ts).
const siblings = shared('sibling-count', () => ({ count: 0 }));

/** `flow N`: a flat name, since the task registry's `parent` already carries the hierarchy. */
function siblingName(): string {
  return `flow ${++siblings.count}`;
}

/** Gives a provisional flow an identity of its own. */
function promote(flow: Flow, owner: Flow): void {
  const fresh = makeFlow(siblingName(), 'flow', owner);
  flow.id = fresh.id;
  flow.name = fresh.name;
  flow.kind = 'flow';
  flow.parent = fresh.parent;
  flow.alias = undefined;
  flow.sentIn = -1;
  flow.autoName = true;
}

/**
 * The flow performing the current operation. `suspends` is true for calls that return a promise
 * the caller awaits (blocking calls), which is what delimits sibling flows.
 */
export function currentFlow(suspends: boolean): Flow {
  // On Node 20, AsyncLocalStorage propagates only to promises made after it is enabled, and a
  // continuation that predates it runs with whatever store its outer resource has later. So the
  // first blocking call enables it, before its caller's `await` creates the continuation.
  if (suspends && !rt.alsEnabled) enter(rt.rootCtx);
  return decide(suspends, true);
}

/**
 * Lets a pending claimant take its identity if this is its continuation's first touch, without
 * treating the call as a possible sibling: used by releases, which commonly follow a call that
 * was not awaited yet in the same run (`const w = cond.wait(); guard.release()`).
 */
export function touchFlow(): void {
  if (rt.alsEnabled) decide(false, false);
}

function decide(suspends: boolean, detectSiblings: boolean): Flow {
  let ctx = (rt.alsEnabled ? rt.als.getStore() : undefined) ?? rt.rootCtx;
  const epoch = currentEpoch();
  if (ctx.run !== epoch) {
    const claimant = takeReadyClaim(ctx);
    if (claimant) {
      ctx = newCtx(claimant, epoch);
      enter(ctx);
    } else {
      ctx.run = epoch;
      ctx.flow = ctx.owner;
      ctx.suspended = false;
    }
  } else if (ctx.suspended && detectSiblings) {
    // A second flow reached the probe in this run with a context whose flow is suspended.
    const first = ctx.flow;
    if (first.alias) {
      promote(first, ctx.owner);
      (ctx.claims ??= []).push(first);
    }
    const sibling = makeFlow(siblingName(), 'flow', ctx.owner);
    sibling.autoName = true;
    const next = newCtx(ctx.owner, epoch);
    next.flow = sibling;
    next.claims = [sibling];
    enter(next);
    ctx = next;
  }
  if (suspends) {
    ctx.suspended = true;
    if (ctx.flow === ctx.owner) {
      ctx.flow = {
        id: ctx.owner.id,
        name: ctx.owner.name,
        kind: ctx.owner.kind,
        parent: ctx.owner.parent,
        alias: ctx.owner,
        blocked: false,
        sentIn: -1,
      };
    }
  }
  return ctx.flow;
}

/** Runs `fn` as the given task, exactly: used by spawn(). */
export function runAs<T>(flow: Flow, fn: () => T): T {
  rt.alsEnabled = true;
  return rt.als.run(newCtx(flow, -1), fn);
}
