/**
 * The run tracker's state (runs.ts has what it means): the current run, with its promises and
 * suspensions, and what each suspension resumes in. One per thread, shared by both builds.
 */
import { rt, shared, type Ctx, type Flow } from './runtime.js';

/** The first promises of a run are kept in an array: most runs make a handful. */
export const SMALL_RUN = 64;
/** A run follows at most this many promises; past it, its flows are uncertain. */
export const MAX_PROMISES_PER_RUN = 1 << 20;

export interface Run {
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
  /** Per suspension: the activation it joined to its own, or -1. */
  joined: number[];
  /** Per suspension: made by `.then` (or `catch`, `finally`) rather than by an `await`. */
  isThen: boolean[];
  thens: number;
  /** For a promise reaction: its promise, and whether it is a `.then` callback's. */
  reaction: object | undefined;
  thenReaction: boolean;
  /**
   * The number of suspensions at the last sign that the code at the base of the run went on
   * running: an operation, a promise made or settled. When it equals `nSusp` at the end, the
   * base did not suspend last, so the last activation is not the run's own flow.
   */
  activity: number;
}

/**
 * What a suspension resumes in, when that is not the main flow's plain `await`: the context
 * alone, or for a `.then` callback this mark (a callback that returns settles its promise, which
 * an `await` resumption does not: see `onSettled`).
 */
export interface ThenMark {
  thenOf: Ctx;
}
export type Resume = Ctx | ThenMark;

export interface State {
  installed: boolean;
  run: Run;
  combinator: number;
  /** What each suspension resumes in; the main flow's `await` when absent. */
  contexts: WeakMap<object, Resume>;
  /** Above zero while `Promise.prototype.then` runs. */
  inThen: number;
  queueMicrotask: (cb: () => void) => void;
  /** Stack checks left for finding a module's top-level await (see `onInit`). */
  topLevelChecks: number;
  /** Set when tracking was left off as the probe loaded (`deferRunTracking`). */
  deferred: boolean;
  /**
   * The promises made since tracking began, when it began after the program had run
   * (`deferRunTracking`); undefined when it began before. A reaction to a promise not in it
   * resumes code that suspended unseen: its flow cannot be known.
   */
  seen: WeakSet<object> | undefined;
}

export function newRun(): Run {
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
    joined: [],
    isThen: [],
    thens: 0,
    reaction: undefined,
    thenReaction: false,
    activity: -1,
  };
}

// One tracker per thread, shared by both builds of the probe (see runtime.ts).
export const st = shared<State>('identity-runs', () => ({
  installed: false,
  run: newRun(),
  combinator: 0,
  contexts: new WeakMap(),
  inThen: 0,
  queueMicrotask: globalThis.queueMicrotask,
  topLevelChecks: 2000,
  deferred: false,
  seen: undefined,
}));

export function find(merge: number[], k: number): number {
  let i = k;
  while (merge[i]! >= 0) i = merge[i]!;
  return i;
}

export function remember(r: Run, promise: object): void {
  if (r.count < SMALL_RUN) r.promises[r.count] = promise;
  else if (r.count < MAX_PROMISES_PER_RUN) (r.positions ??= new WeakMap()).set(promise, r.count);
  else {
    r.overflow = true;
    return;
  }
  r.count++;
}

/** Where a promise made in this run is in its order, or -1. */
export function positionOf(r: Run, promise: object): number {
  const at = r.positions?.get(promise);
  if (at !== undefined) return at;
  for (let i = Math.min(r.count, SMALL_RUN) - 1; i >= 0; i--)
    if (r.promises[i] === promise) return i;
  return -1;
}
