/**
 * The run tracker behind task identity (identity.ts has the definition it decides).
 *
 * A run is one synchronous execution: a promise reaction (V8's promise hooks bracket it with
 * `before` and `after`), a callback the event loop starts (an async hook brackets it), or the top
 * level (ended by a microtask). Inside a run, a promise created with a parent is a suspension:
 * an `await` (or a `.then`) of that parent. Every suspension ends an activation: the code that
 * ran since the previous one.
 *
 * - `await f()`: f has just suspended and returned its own promise, made before it suspended. So
 *   when a suspension awaits a promise made in this run before the previous suspension, the
 *   activation that suspended last is awaited here and joins this one (union-find, so a chain of
 *   awaited helpers collapses into its caller). A promise made after it (`Promise.all`'s result,
 *   a timer's) joins nothing.
 * - When the run ends, the last activation is the flow that runs the run, if the code at the
 *   base of the run (the async function a reaction resumed, the `.then` callback, the callback
 *   the event loop started) suspended last. If that code went on after the last suspension (it
 *   made an operation, or made or settled a promise: an async function that returns settles its
 *   own), the last activation was someone it did not await. Every activation that nobody in the
 *   run awaited and that is not the run's own is a flow of its own; the promise of its
 *   suspension is mapped to it, and the reaction that resumes it runs as it. (A module's top
 *   level is the exception: the loader runs after it, so there the last activation, or the one
 *   with the top-level await, is main's; see `onInit`.)
 * - `await v` for a value that is not a native promise wraps it in a promise first; that
 *   wrapper is part of the await, not a suspension of its own. `Promise.prototype.then` is
 *   wrapped only to mark the promises it makes, since a `.then` callback that returns settles
 *   its promise where an `await` resumption always settles its own.
 * - Promise combinators chain their inputs internally; those chains are not the caller's awaits,
 *   so suspensions are not counted while a combinator runs.
 * - A flush before the run is over (a full buffer, `flushEvents()`, a blocking wait) sends its
 *   provisional operations as the run's own flow's; if the run then decides otherwise, the flows
 *   involved are marked uncertain rather than shown wrongly as certain.
 *
 * Known limits, written in the README: `const p = f(); const q = g(); await p` joins g, not f,
 * to the caller; an operation made by a caller between two of its callees is the caller's only
 * when no promise was made in between.
 *
 * Costs: a call per promise created (an array push, or a WeakMap entry past the first 64 of a
 * run), one per settlement and two per reaction (bench/README.md has the figures).
 */
import { executionAsyncId } from 'node:async_hooks';
import { promiseHooks } from 'node:v8';
import { autoFlow, ctxOf, flowOfCtx, makeFlow, promote } from './identity.js';
import { rt, type Ctx, type Flow } from './runtime.js';
import {
  find,
  newRun,
  positionOf,
  remember,
  st,
  SMALL_RUN,
  type Run,
  type ThenMark,
} from './run-state.js';
import { onFlush } from './recorder.js';
import { atModuleTopLevel } from './sites.js';

function start(r: Run, ctx: Ctx, asyncId: number): void {
  r.open = true;
  r.gen++;
  r.ctx = ctx;
  r.asyncId = asyncId;
  if (r.count > SMALL_RUN) r.positions = undefined;
  r.count = 0;
  r.entered = false;
  r.nSusp = 0;
  r.roots = 0;
  if (r.provisionals > 0) r.provisional.length = 0;
  r.provisionals = 0;
  r.overflow = false;
  r.topLevel = -1;
  r.thens = 0;
  r.reaction = undefined;
  r.thenReaction = false;
  r.activity = -1;
  if (asyncId >= 0) {
    // Nothing tells the end of a callback's run but the microtasks after it.
    const gen = r.gen;
    st.queueMicrotask(() => {
      if (r.gen === gen) finalize(r);
    });
  }
}

/**
 * Makes sure a run is open for an event outside any promise reaction: the top level, or a
 * callback the event loop started (each has an async id of its own; the top level has 0 or 1).
 * A nextTick callback runs before the microtasks that would end the previous run, so a change of
 * async id ends it too.
 */
function ensureOpen(r: Run): void {
  if (r.open && r.asyncId < 0) return;
  const id = executionAsyncId();
  if (r.open) {
    if (id === r.asyncId) return;
    finalize(r);
  }
  start(r, id > 1 ? { flow: undefined, parent: undefined } : outsideCtx(), id);
}

/**
 * The context of a run outside any callback: the main flow's. When tracking began after the
 * program had run, that is so only at a module's top level: otherwise this is the rest of a
 * reaction that began unseen, whose flow cannot be known.
 */
function outsideCtx(): Ctx {
  return st.seen === undefined || atModuleTopLevel(outsideCtx) ? rt.rootCtx : unseenCtx();
}

function unseenCtx(): Ctx {
  return { flow: undefined, parent: undefined, unseen: true };
}

/** The flow that runs `r`. */
function runOwner(r: Run): Flow {
  return flowOfCtx(r.ctx);
}

function onInit(promise: object, parent: object | undefined): void {
  st.seen?.add(promise);
  const r = st.run;
  ensureOpen(r);
  if (parent === undefined) {
    remember(r, promise);
    r.entered = true;
    r.activity = r.nSusp;
    return;
  }
  if (st.combinator > 0) return;
  const j = r.nSusp;
  const isThen = st.inThen > 0;
  // `await v` for a value that is not a native promise first wraps it in a promise whose parent
  // is the awaiting function's own promise, then awaits the wrapper. The wrapper's parent says
  // nothing about what was awaited, so the join it made is undone; the wrapper and the await
  // stay one activation (joined just below).
  if (j > 0 && !isThen && parent === r.susp[j - 1] && !r.isThen[j - 1]) unjoin(r, j - 1);
  // An ES module with a top-level await is evaluated inside the loader's own async code, which
  // suspends after it: the last suspension of that run is the loader's, not the module's. The
  // first few suspensions of the main flow are checked for a module's top level, which is main.
  // A top-level await is never a `.then`: one made below the top level (inside a call it made)
  // is that call's, not the top level's suspension.
  if (st.topLevelChecks > 0 && r.ctx === rt.rootCtx && !isThen) {
    st.topLevelChecks--;
    if (r.topLevel < 0 && atModuleTopLevel(onInit)) r.topLevel = j;
  }
  // `await f()`: f has just suspended and returned its promise, made before it suspended. The
  // activation that suspended last is then awaited here, and is this flow.
  r.joined[j] = -1;
  if (j > 0) {
    const before = r.suspAt[j - 1]!;
    const at = positionOf(r, parent);
    if (at >= 0 && at <= before) {
      const k = find(r.merge, j - 1);
      r.merge[k] = j;
      r.joined[j] = k;
      r.roots--;
    }
  }
  r.susp[j] = promise;
  r.merge[j] = -1;
  r.isThen[j] = isThen;
  if (isThen) r.thens++;
  r.roots++;
  // A `.then` result may be awaited next: it counts as made before this suspension.
  r.suspAt[j] = r.count;
  r.nSusp = j + 1;
  remember(r, promise);
  r.entered = false;
}

/** Undoes the join suspension `j` made (see `onInit`). */
function unjoin(r: Run, j: number): void {
  const k = r.joined[j]!;
  if (k < 0) return;
  r.merge[k] = -1;
  r.joined[j] = -1;
  r.roots++;
}

/**
 * Whether the code at the base of the run suspended last: nothing of it ran after the last
 * suspension. The top level of a module is exempt: the loader goes on after it.
 */
function baseSuspendedLast(r: Run): boolean {
  return r.activity < r.nSusp || (r.asyncId >= 0 && r.ctx === rt.rootCtx);
}

/** Decides every flow of the run, once it is over. */
function finalize(r: Run): void {
  if (!r.open) return;
  r.open = false;
  const n = r.nSusp;
  if (r.roots > 1 || r.provisionals > 0 || r.topLevel >= 0 || (n > 0 && !baseSuspendedLast(r)))
    decide(r);
  else if (r.ctx !== rt.rootCtx || r.thens > 0) {
    // One flow ran this run: its continuations resume in its context.
    for (let k = 0; k < n; k++) resumeIn(r, k, r.ctx);
  }
  // The reused arrays must not keep a run's promises (and what they resolved to) alive.
  if (r.nSusp > SMALL_RUN) r.susp.length = 0;
  else for (let k = 0; k < n; k++) r.susp[k] = undefined as unknown as object;
  // A loop: most runs clear one or two entries, which `fill` does more slowly.
  const kept = r.count < SMALL_RUN ? r.count : SMALL_RUN;
  for (let k = 0; k < kept; k++) r.promises[k] = undefined as unknown as object;
}

function decide(r: Run): void {
  const n = r.nSusp;
  const owner = runOwner(r);
  const owners = new Map<number, Flow>();
  // The run's own flow is the activation that suspended last, unless the base went on after it.
  let ownRoot = -1;
  if (r.topLevel >= 0) ownRoot = find(r.merge, r.topLevel);
  else if (baseSuspendedLast(r)) ownRoot = n - 1;
  for (let k = 0; k < n; k++) {
    const root = find(r.merge, k);
    let flow = root === ownRoot ? owner : owners.get(root);
    const prov = r.provisional[k];
    if (!flow) {
      flow = prov ? promote(prov, owner) : autoFlow('flow', owner);
      owners.set(root, flow);
    }
    if (prov && prov !== flow) prov.alias = flow;
    resumeIn(r, k, flow === owner ? r.ctx : ctxOf(flow));
    // A run that began unseen (before tracking began) may hold the continuations of several
    // flows that suspended unseen: none of the flows it makes can be told for certain.
    if (r.ctx.unseen && flow !== owner) markUncertain(flow);
    if (r.overflow || (prov?.sentEarly && flow !== owner)) {
      markUncertain(flow);
      // A flush before the end of the run sent this activation's operations as the run's own.
      if (!r.overflow) markUncertain(owner);
    }
  }
  // Operations after the last suspension were made by the flow that runs the run.
  const tail = r.provisional[n];
  if (tail) tail.alias = owner;
}

/** Records what suspension `k` resumes in. */
function resumeIn(r: Run, k: number, ctx: Ctx): void {
  if (r.isThen[k]) st.contexts.set(r.susp[k]!, thenMark(ctx));
  else if (ctx !== rt.rootCtx) st.contexts.set(r.susp[k]!, ctx);
}

function thenMark(ctx: Ctx): ThenMark {
  return (ctx.thenMark ??= { thenOf: ctx });
}

/** Marks a flow uncertain, and sends its registration again so that the analysis learns it. */
export function markUncertain(flow: Flow): void {
  if (flow.uncertain) return;
  flow.uncertain = true;
  flow.sentIn = -1;
}

function onBefore(promise: object): void {
  const r = st.run;
  finalize(r);
  const resume = st.contexts.get(promise);
  // A promise made before tracking began resumes code whose flow nobody saw.
  let ctx = st.seen === undefined || st.seen.has(promise) ? rt.rootCtx : unseenCtx();
  let then = false;
  if (resume) {
    // A suspension resumes once: its entry goes now, so that the table shrinks as flows finish
    // instead of when the collector gets to it.
    st.contexts.delete(promise);
    if ((resume as ThenMark).thenOf) {
      ctx = (resume as ThenMark).thenOf;
      then = true;
    } else ctx = resume as Ctx;
  }
  start(r, ctx, -1);
  r.reaction = promise;
  r.thenReaction = then;
}

/**
 * A settlement after the last suspension is the base of the run going on: an async function
 * returning, a `.then` callback returning a value, a promise resolved. The `await` that resumed
 * the run settles its own promise when the run ends whatever the function did, so it is not one.
 */
function onSettled(promise: object): void {
  const r = st.run;
  const n = r.nSusp;
  if (!r.open || n === 0 || r.activity === n) return;
  if ((promise === r.reaction && !r.thenReaction) || promise === r.susp[n - 1]) return;
  // Another callback's run, not yet opened: it opens on its first event.
  if (r.asyncId >= 0 && executionAsyncId() !== r.asyncId) return;
  r.activity = n;
}

function onAfter(): void {
  finalize(st.run);
}

/**
 * The flow of the current operation. Before any async function was entered in the open window it
 * is the run's own flow; after, it is provisional until the run ends.
 */
export function runFlow(): Flow {
  const r = st.run;
  ensureOpen(r);
  const w = r.nSusp;
  r.activity = w;
  if (!r.entered) return runOwner(r);
  let prov = r.provisional[w];
  if (!prov) {
    prov = makeFlow('', 'flow', undefined);
    prov.alias = runOwner(r);
    r.provisional[w] = prov;
    r.provisionals++;
  }
  return prov;
}

/**
 * Runs `fn` in a run of its own whose flow is `ctx`'s, then resumes the enclosing run: a spawned
 * task's synchronous start is the task's, not its caller's.
 */
export function withRun<T>(ctx: Ctx, fn: () => T): T {
  const outer = st.run;
  const inner = newRun();
  start(inner, ctx, -1);
  st.run = inner;
  try {
    return fn();
  } finally {
    finalize(inner);
    st.run = outer;
  }
}

/** Marks the combinators' own chains (see `onInit`). */
function patchCombinators(): void {
  const P = Promise as unknown as Record<string, (this: unknown, it: unknown) => unknown>;
  for (const name of ['all', 'allSettled', 'any', 'race']) {
    const original = P[name];
    if (typeof original !== 'function') continue;
    P[name] = {
      [name](this: unknown, iterable: unknown): unknown {
        st.combinator++;
        try {
          return original.call(this, iterable);
        } finally {
          st.combinator--;
        }
      },
    }[name]!;
  }
}

/**
 * Installs the hooks once per thread, before the first operation needs them. After
 * `deferRunTracking`, the program has run unseen: tracking begins with the promises made from
 * now on, and code that suspended before resumes as flows marked uncertain.
 */
export function ensureRunTracking(): void {
  if (st.installed) return;
  st.installed = true;
  if (st.deferred) st.seen = new WeakSet();
  promiseHooks.createHook({
    init: onInit,
    before: onBefore,
    after: onAfter,
    settled: onSettled,
  });
  patchCombinators();
  patchThen();
  onFlush(pinOpenRun);
  // Registered before the recorder's own exit handler (the probe installs this at load), so the
  // last batch carries the decided flows.
  process.on('exit', endRunAtExit);
  patchQueueMicrotask();
}

/**
 * Leaves tracking off until an operation needs it (`ensureRunTracking`): for `lockscope/register`
 * with nothing to record, whose program would otherwise pay for every promise it makes. Called
 * as the probe loads, before the program runs.
 */
export function deferRunTracking(): void {
  if (!st.installed) st.deferred = true;
}

/**
 * A flush in the middle of a run (a full buffer, `flushEvents()`, a blocking wait) sends the
 * provisional flows' operations under the run's own flow; `decide` marks the flows uncertain if
 * the run then turns out otherwise.
 */
function pinOpenRun(): void {
  const r = st.run;
  if (!r.open || r.provisionals === 0 || !rt.recording) return;
  for (const prov of r.provisional) if (prov) prov.sentEarly = true;
}

/** A run cut short by `process.exit()`: the code that called it was still running. */
function endRunAtExit(): void {
  const r = st.run;
  if (!r.open) return;
  r.activity = r.nSusp;
  finalize(r);
}

/** Marks the promises `.then` makes (and `catch` and `finally`, which call it). */
function patchThen(): void {
  const proto = Promise.prototype as unknown as Record<string, unknown>;
  const original = proto.then as (...args: unknown[]) => unknown;
  proto.then = function then(this: unknown, ...args: unknown[]): unknown {
    st.inThen++;
    try {
      return original.apply(this, args);
    } finally {
      st.inThen--;
    }
  };
}

/**
 * A `queueMicrotask` callback is a flow of its own, like a `process.nextTick` one. Node 20 gives
 * it an async id and Node 24 does not, so the probe wraps it to behave the same on both.
 */
function patchQueueMicrotask(): void {
  const original = st.queueMicrotask;
  globalThis.queueMicrotask = function queueMicrotask(callback: () => void): void {
    // Anything but a function goes to Node as it is, to fail with Node's own error.
    if (typeof callback !== 'function') return original(callback);
    const r = st.run;
    const creator = r.open ? r.ctx : rt.rootCtx;
    const parent = creator.flow ?? creator.parent;
    original(() => {
      finalize(st.run);
      start(st.run, { flow: undefined, parent }, -1);
      try {
        callback();
      } finally {
        finalize(st.run);
      }
    });
  };
}

/**
 * Runs `fn` once `flow` is decided: at once for a decided flow, else after the current run ends
 * (decisions that depend on identity, such as a fail-fast judgement, wait for it).
 */
export function whenDecided(flow: Flow, fn: () => void): void {
  if (flow.alias) probeMicrotask(fn);
  else fn();
}

/**
 * The original `queueMicrotask`, for the probe's own deferred work: it runs once the current run
 * is decided.
 */
export function probeMicrotask(cb: () => void): void {
  st.queueMicrotask(() => {
    finalize(st.run);
    cb();
  });
}
