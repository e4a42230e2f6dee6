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
 * - When the run ends, the last activation is the flow that runs the run (or, in the run that
 *   evaluates an ES module, the module's top level: see `onInit`). Every other activation that
 *   nobody in the run awaited is a flow of its own; the promise of its suspension is mapped to it,
 *   and the reaction that resumes it runs as it.
 * - Promise combinators chain their inputs internally; those chains are not the caller's awaits,
 *   so suspensions are not counted while a combinator runs.
 *
 * Known limits, written in the README: `const p = f(); const q = g(); await p` joins g, not f,
 * to the caller; an operation made by a caller between two of its callees is the caller's only
 * when no promise was made in between.
 *
 * Costs: a call per promise created (an array push, or a WeakMap entry past the first 64 of a
 * run) and two per reaction (bench/README.md has the figures).
 */
import { executionAsyncId } from 'node:async_hooks';
import { promiseHooks } from 'node:v8';
import { autoFlow, ctxOf, flowOfCtx, makeFlow, promote } from './identity.js';
import { rt, shared, type Ctx, type Flow } from './runtime.js';
import { atModuleTopLevel } from './sites.js';

/** The first promises of a run are kept in an array: most runs make a handful. */
const SMALL_RUN = 64;
/** A run follows at most this many promises; past it, its flows are uncertain. */
const MAX_PROMISES_PER_RUN = 1 << 20;

interface Run {
  open: boolean;
  /** Bumped per run, so that a finalizer queued for one run leaves the next alone. */
  gen: number;
  /** The context of the flow that runs this run. */
  ctx: Ctx;
  /** For a run the event loop started: its async id, which changes when the next one starts. */
  asyncId: number;
  /**
   * Parentless promises, and each suspension's own promise, numbered in order of creation: the
   * first `SMALL_RUN` in `promises`, the rest in `positions` (a large fan-out would make a
   * search of the array quadratic).
   */
  promises: object[];
  positions: WeakMap<object, number> | undefined;
  count: number;
  /** True once a parentless promise was created in the open window. */
  entered: boolean;
  /**
   * Per suspension: its promise, where that promise is in `promises`, what it merged into. The
   * arrays are reused from run to run (resetting their length costs more than a run), so only
   * the first `nSusp` entries are this run's.
   */
  nSusp: number;
  susp: object[];
  suspAt: number[];
  merge: number[];
  /** Activations not (yet) merged into a later one. */
  roots: number;
  /** Per window: the provisional flow of the operations made in it. */
  provisional: (Flow | undefined)[];
  provisionals: number;
  overflow: boolean;
  /** The suspension a module's top level made in this run, or -1. */
  topLevel: number;
}

interface State {
  installed: boolean;
  run: Run;
  combinator: number;
  /** The context each suspension resumes in; the main flow's when absent. */
  contexts: WeakMap<object, Ctx>;
  queueMicrotask: (cb: () => void) => void;
  /** Stack checks left for finding a module's top-level await (see `onInit`). */
  topLevelChecks: number;
}

function newRun(): Run {
  return {
    open: false,
    gen: 0,
    ctx: rt.rootCtx,
    asyncId: -1,
    promises: [],
    positions: undefined,
    count: 0,
    entered: false,
    nSusp: 0,
    susp: [],
    suspAt: [],
    merge: [],
    roots: 0,
    provisional: [],
    provisionals: 0,
    overflow: false,
    topLevel: -1,
  };
}

// One tracker per thread, shared by both builds of the probe (see runtime.ts).
const st = shared<State>('identity-runs', () => ({
  installed: false,
  run: newRun(),
  combinator: 0,
  contexts: new WeakMap(),
  queueMicrotask: globalThis.queueMicrotask,
  topLevelChecks: 2000,
}));

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
  start(r, id > 1 ? { flow: undefined, parent: undefined } : rt.rootCtx, id);
}

/** The flow that runs `r`. */
function runOwner(r: Run): Flow {
  return flowOfCtx(r.ctx);
}

function find(merge: number[], k: number): number {
  let i = k;
  while (merge[i]! >= 0) i = merge[i]!;
  return i;
}

function remember(r: Run, promise: object): void {
  if (r.count < SMALL_RUN) r.promises[r.count] = promise;
  else if (r.count < MAX_PROMISES_PER_RUN) (r.positions ??= new WeakMap()).set(promise, r.count);
  else {
    r.overflow = true;
    return;
  }
  r.count++;
}

/** Where a promise made in this run is in its order, or -1. */
function positionOf(r: Run, promise: object): number {
  const at = r.positions?.get(promise);
  if (at !== undefined) return at;
  for (let i = Math.min(r.count, SMALL_RUN) - 1; i >= 0; i--)
    if (r.promises[i] === promise) return i;
  return -1;
}

function onInit(promise: object, parent: object | undefined): void {
  const r = st.run;
  ensureOpen(r);
  if (parent === undefined) {
    remember(r, promise);
    r.entered = true;
    return;
  }
  if (st.combinator > 0) return;
  const j = r.nSusp;
  // An ES module with a top-level await is evaluated inside the loader's own async code, which
  // suspends after it: the last suspension of that run is the loader's, not the module's. The
  // first few suspensions of the main flow are checked for a module's top level, which is main.
  if (st.topLevelChecks > 0 && r.ctx === rt.rootCtx) {
    st.topLevelChecks--;
    if (r.topLevel < 0 && atModuleTopLevel(onInit)) r.topLevel = j;
  }
  // `await f()`: f has just suspended and returned its promise, made before it suspended. The
  // activation that suspended last is then awaited here, and is this flow.
  if (j > 0) {
    const before = r.suspAt[j - 1]!;
    const at = positionOf(r, parent);
    if (at >= 0 && at <= before) {
      const k = find(r.merge, j - 1);
      r.merge[k] = j;
      r.roots--;
    }
  }
  r.susp[j] = promise;
  r.merge[j] = -1;
  r.roots++;
  // A `.then` result may be awaited next: it counts as made before this suspension.
  r.suspAt[j] = r.count;
  r.nSusp = j + 1;
  remember(r, promise);
  r.entered = false;
}

/** Decides every flow of the run, once it is over. */
function finalize(r: Run): void {
  if (!r.open) return;
  r.open = false;
  if (r.roots > 1 || r.provisionals > 0 || r.topLevel >= 0) decide(r);
  else if (r.ctx !== rt.rootCtx) {
    // One flow ran this run: its continuations resume in its context.
    for (let k = 0; k < r.nSusp; k++) st.contexts.set(r.susp[k]!, r.ctx);
  }
  // The reused arrays must not keep a run's promises (and what they resolved to) alive.
  if (r.nSusp > SMALL_RUN) r.susp.length = 0;
  else r.susp.fill(undefined as unknown as object, 0, r.nSusp);
  r.promises.fill(undefined as unknown as object, 0, Math.min(r.count, SMALL_RUN));
}

function decide(r: Run): void {
  const n = r.nSusp;
  const owner = runOwner(r);
  const owners = new Map<number, Flow>();
  const ownRoot = r.topLevel >= 0 ? find(r.merge, r.topLevel) : n - 1;
  for (let k = 0; k < n; k++) {
    const root = find(r.merge, k);
    let flow = root === ownRoot ? owner : owners.get(root);
    const prov = r.provisional[k];
    if (!flow) {
      flow = prov ? promote(prov, owner) : autoFlow('flow', owner);
      owners.set(root, flow);
    }
    if (prov && prov !== flow) prov.alias = flow;
    const ctx = flow === owner ? r.ctx : ctxOf(flow);
    if (ctx !== rt.rootCtx) st.contexts.set(r.susp[k]!, ctx);
    if (r.overflow) markUncertain(flow);
  }
  // Operations after the last suspension were made by the flow that runs the run.
  const tail = r.provisional[n];
  if (tail) tail.alias = owner;
}

/** Marks a flow uncertain, and sends its registration again so that the analysis learns it. */
function markUncertain(flow: Flow): void {
  if (flow.uncertain) return;
  flow.uncertain = true;
  flow.sentIn = -1;
}

function onBefore(promise: object): void {
  const r = st.run;
  finalize(r);
  const ctx = st.contexts.get(promise);
  // A suspension resumes once: its entry goes now, so that the table shrinks as flows finish
  // instead of when the collector gets to it.
  if (ctx) st.contexts.delete(promise);
  start(r, ctx ?? rt.rootCtx, -1);
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
  if (!r.entered) return runOwner(r);
  const w = r.nSusp;
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

/** Installs the hooks once per thread, before the first operation needs them. */
export function ensureRunTracking(): void {
  if (st.installed) return;
  st.installed = true;
  promiseHooks.createHook({ init: onInit, before: onBefore, after: onAfter });
  patchCombinators();
  patchQueueMicrotask();
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
