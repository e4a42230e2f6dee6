/**
 * Task identity: which flow performed an operation. The definition (README, "How Lockscope tells
 * tasks apart"): a flow is the main module's top level or a worker thread's; each `spawn()`; each
 * callback the event loop starts (timers, immediates, I/O and request handlers, listeners emitted
 * from I/O, worker messages); and each async function call whose promise its caller does not
 * directly await. `await f()` continues the caller's flow, as does a `.then` callback whose
 * result the caller awaits.
 *
 * How it is decided, without capturing a stack per operation:
 *
 * - A callback the event loop starts (a run outside any promise reaction, with an async id of its
 *   own) gets a context of its own; so does a `spawn()`'s function (runs.ts). The context is
 *   carried to every continuation: each suspension is mapped to the context it resumes in.
 * - Within one synchronous run, V8's promise hooks show every suspension and what it awaits
 *   (runs.ts): an activation awaited right after it suspends (`await f()`) is its caller's flow;
 *   one that nobody in the run awaits is a flow of its own, and its continuations act as it.
 * - An operation is attributed to the activation that makes it, decided when the run ends. Until
 *   then it acts with a provisional flow (`alias`), and decisions that depend on identity (a
 *   re-entry, a fail-fast judgement) wait for the end of the run.
 *
 * Where the rules cannot follow (a run with more promises than they track), the flows are marked
 * uncertain and the analysis says so rather than reporting a definite finding. The README lists
 * the shapes the rules are known to get wrong.
 */
import { rt, newId, shared, type Ctx, type Flow } from './runtime.js';
import { ensureRunTracking, runFlow, withRun } from './runs.js';

export function makeFlow(name: string, kind: Flow['kind'], parent: Flow | undefined): Flow {
  const id = newId(rt);
  return {
    id,
    name,
    kind,
    parent,
    alias: undefined,
    blocked: false,
    sentIn: -1,
  };
}

/** The flow whose identity `flow` acts with: itself, or the flow it turned out to belong to. */
export function resolved(flow: Flow): Flow {
  let f = flow;
  while (f.alias) f = f.alias;
  return f;
}

// Shared by both builds, so that flow names and ordinals agree (see runtime.ts).
const names = shared('flow-names', () => new Map<string, number>());

/**
 * Completes an automatic flow name when the flow is first registered: the function it was first
 * seen in and an ordinal per function (`dine #3`), or its kind (`flow #2`, `callback #1`). The
 * ordinal counts registrations, so names repeat from run to run when the program does.
 */
export function completeName(flow: Flow, fn: string | undefined): void {
  if (!flow.autoName) return;
  flow.autoName = false;
  const base = fn ?? flow.name;
  const n = (names.get(base) ?? 0) + 1;
  names.set(base, n);
  flow.name = `${base} #${n}`;
}

/** A flow found by the identity rules rather than named by the program. */
export function autoFlow(kind: 'flow' | 'callback', parent: Flow | undefined): Flow {
  const flow = makeFlow(kind, kind, parent);
  flow.autoName = true;
  return flow;
}

/**
 * Gives a provisional flow an identity of its own, in place: the events it recorded, still in the
 * recorder's buffer, then carry it. Whether it waits is kept.
 */
export function promote(prov: Flow, parent: Flow): Flow {
  prov.id = newId(rt);
  prov.name = 'flow';
  prov.kind = 'flow';
  prov.parent = parent;
  prov.parentId = undefined;
  prov.alias = undefined;
  prov.autoName = true;
  return prov;
}

/** The context of a flow, created once. */
export function ctxOf(flow: Flow): Ctx {
  return (flow.ctx ??= { flow, parent: undefined });
}

/** The flow a context stands for, made when first needed (most callbacks never use the probe). */
export function flowOfCtx(ctx: Ctx): Flow {
  if (!ctx.flow) {
    ctx.flow = autoFlow('callback', ctx.parent);
    ctx.flow.ctx = ctx;
    if (ctx.unseen) ctx.flow.uncertain = true;
    // The flow keeps its parent until it is registered; the context need not keep it longer.
    ctx.parent = undefined;
  }
  return ctx.flow;
}

/**
 * The flow performing the current operation. It may be provisional until the current synchronous
 * run is over (`flow.alias` is then set); `resolved()` gives who it acts as.
 */
export function currentFlow(): Flow {
  ensureRunTracking();
  const flow = runFlow();
  // Under `lockscope explore`, a call of a flow that has calls parked at their gates lets those
  // go on first: in Node they took effect when they were made, before this one.
  const explore = rt.explore;
  if (explore !== undefined && !explore.open) explore.settle(flow);
  return flow;
}

/** The flow of a call about to park at its gate (explore/hooks.ts): nothing goes on for it. */
export function callingFlow(): Flow {
  ensureRunTracking();
  return runFlow();
}

/** Runs `fn` as the given task, exactly: used by spawn(). */
export function runAs<T>(flow: Flow, fn: () => T): T {
  ensureRunTracking();
  return withRun(ctxOf(flow), fn);
}
