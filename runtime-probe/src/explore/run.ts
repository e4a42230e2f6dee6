/**
 * One run of a program under the controlled scheduler (explore/scheduler.ts), driven decision by
 * decision: `next()` lets the program run until the calls parked at their gates and the virtual
 * timers are all that is left (a turn of the event loop after the last choice) and returns them;
 * `choose()` lets one go on; `finish()` judges the run, as a program gone idle when it went
 * idle, and not at all when it did not settle (its own timers, I/O or threads still busy past
 * the wait limit), was cut at its decision limit, exited, or diverged from a replayed schedule.
 */
import { relative, sep } from 'node:path';
import { Analyzer, type AnalysisOptions } from '../analysis/engine.js';
import type { Finding, Report } from '../analysis/types.js';
import { clock } from '../clock.js';
import { completeName, ctxOf, resolved } from '../identity.js';
import type { Message } from '../protocol.js';
import { withRun } from '../runs.js';
import { rt } from '../runtime.js';
import { siteOf } from '../sites.js';
import type { Program, Surroundings } from './program.js';
import type { Pending, Scheduler } from './scheduler.js';
import type { ScheduleStep } from './schedule.js';

export interface ExploreSettings {
  /** Timers fire in Node's order only (`ordered`), or in any order (`any`). */
  timers: 'any' | 'ordered';
  /** The most decisions of one run; a run that needs more is cut there and judged inconclusive. */
  maxSteps: number;
  /** How long a run may wait for the program's own timers and I/O, in milliseconds. */
  realWaitMs: number;
  analysis: Partial<AnalysisOptions>;
  /** Which findings fail a run. */
  fails: (f: Finding) => boolean;
  /** The program's arguments (process.argv after its file). */
  args: readonly string[];
  /** Keep each run's events, by name and without times, to compare runs (`RunResult.events`). */
  keepEvents?: boolean;
}

/** Why a run failed, if it did. */
export type Failure =
  | { kind: 'finding'; findings: Finding[] }
  | { kind: 'error'; error: unknown }
  | { kind: 'exit'; code: number };

export interface RunResult {
  steps: ScheduleStep[];
  choices: number[];
  analyzer: Analyzer;
  report: Report;
  failure: Failure | undefined;
  /** Timers that fired before one due earlier: each needs a reordering that I/O may cause. */
  reorderings: { fired: ScheduleStep; overtook: ScheduleStep }[];
  /** The program's output in this run (cut at 64 KiB). */
  output: string;
  /**
   * Set when the run did not settle: the program's own timers, I/O or threads were still busy
   * past the wait limit. Its failures are not definite (the order was not the scheduler's).
   */
  unsettled: string | undefined;
  /** Set when the run had to wait for real timers or I/O, which the scheduler does not control. */
  waitedForReal: boolean;
  /** Set when the run was cut at `maxSteps`. */
  cut: boolean;
  /** With `keepEvents`: the run's events, one line each, by name and without times. */
  events?: string[];
  /** What the program used that the scheduler does not control, in words. */
  unscheduled: string[];
  /** Set when a replay met a decision other than the schedule's: the step and what was found. */
  diverged:
    | { step: number; expected: ScheduleStep | undefined; found: ScheduleStep | undefined }
    | undefined;
}

const SHARED_NOTE =
  'the Shared* primitives (SharedMutex and the others), whose waits block a thread and are not scheduled';
const THREADS_NOTE = 'worker threads, which run in parallel and are not scheduled';

/** Thrown into the program by its `process.exit()` while exploring: the run ends there. */
export class ExitCalled extends Error {
  constructor(readonly code: number) {
    super(`process.exit(${code})`);
  }
}

/** What a run of the program captured of its surroundings. */
export interface Captured {
  errors: unknown[];
  /** Worker threads the program started in this run that have not exited. */
  workers: number;
  /** The program's timers of this run that have not fired or been cleared, by kind. */
  timers: Map<object, 'timeout' | 'immediate'>;
  /** The program's own listeners for process events the explorer handles for it. */
  listeners: Map<string, ((...args: unknown[]) => void)[]>;
  exit: number | undefined;
  output: string[];
  size: number;
}

/**
 * One run in progress: `next()` lets the program run until the next decision and returns the
 * choices (none once the run is over), `choose()` takes one, `finish()` judges the run.
 */
export class Run {
  readonly steps: ScheduleStep[] = [];
  readonly choices: number[] = [];
  readonly #picked: Pending[] = [];
  readonly #analyzer: Analyzer;
  readonly #stream = {};
  readonly #unscheduled = new Set<string>();
  readonly #events: EventLog | undefined;
  readonly #unsubscribe: () => void;
  readonly #activity: Activity;
  /** Why the run cannot be judged, when it did not settle (see `next`). */
  #unsettled: string | undefined;
  #mainFailed = false;
  #mainError: unknown;
  #waitedForReal = false;
  #cut = false;
  #over = false;
  #diverged: RunResult['diverged'];
  #divergedAt: Pending | undefined;

  constructor(
    readonly program: Program,
    readonly settings: ExploreSettings,
    readonly scheduler: Scheduler,
    readonly captured: Captured,
    readonly base: string,
    surroundings: Surroundings,
  ) {
    rt.mainFlow.blocked = false;
    this.#analyzer = new Analyzer(settings.analysis);
    this.#events = settings.keepEvents ? new EventLog(base) : undefined;
    this.#unsubscribe = program.probe.subscribe((m: Message) => {
      this.#events?.add(m);
      if (m.t === 'resource' && m.kind.startsWith('shared-')) this.#unscheduled.add(SHARED_NOTE);
      if (m.t === 'task' && m.thread !== 0) this.#unscheduled.add(THREADS_NOTE);
      this.#analyzer.accept(this.#stream, m);
    });
    this.#activity = new Activity(() => captured.workers + captured.timers.size);
    // The program's top level is the thread's main flow, as under `lockscope run`.
    withRun(ctxOf(rt.mainFlow), () => {
      void (async () => {
        await program.evaluate(surroundings);
      })().catch((e: unknown) => {
        this.#mainFailed = true;
        this.#mainError = e;
      });
    });
  }

  /** The analysis of the run so far (its live state follows every decision). */
  get analyzer(): Analyzer {
    return this.#analyzer;
  }

  /** Runs the program until its next decision; returns the choices, none once it is over. */
  async next(): Promise<Pending[]> {
    if (this.#over) return [];
    const sched = this.scheduler;
    await turn();
    const c = this.captured;
    if (c.exit !== undefined || c.errors.length > 0 || this.#mainFailed) return this.#end();
    let pending = sched.choices();
    // The program's own timers and I/O are not the scheduler's. Before a virtual timer is offered
    // (or the run judged over), they go first, as they would in Node when they are due; past the
    // wait limit the run did not settle, and what it shows is not judged.
    const timersOnly = pending.length === 0 || pending[0]!.due !== undefined;
    if (timersOnly && this.#activity.busy()) {
      // A virtual timer stands for a delay: the program's own work may take that long in real
      // time before the timer is offered (so a real 10 ms timer goes before a 1,000 ms timeout,
      // and an interval of its own does not hold a 3 ms sleep back for ever). With no virtual
      // timer, the run waits up to the limit.
      const shortest = pending.reduce((m, p) => Math.min(m, p.ms), Infinity);
      const deadline = clock.now() + Math.min(this.settings.realWaitMs, shortest);
      while (this.#activity.busy() && clock.now() < deadline) {
        this.#waitedForReal = true;
        // Immediates need a turn; timers and I/O a moment.
        if (!this.#activity.onlyImmediates()) await new Promise((r) => clock.setTimeout(r, 1));
        await turn();
        if (c.exit !== undefined || c.errors.length > 0 || this.#mainFailed) return this.#end();
        pending = sched.choices();
        if (pending.length > 0 && pending[0]!.due === undefined) break;
      }
      if (pending.length === 0 && this.#activity.busy()) {
        this.#unsettled ??=
          'the program still had timers, I/O or threads of its own running after ' +
          `${this.settings.realWaitMs / 1000} s, which explore does not control`;
        return this.#end();
      }
    }
    if (pending.length > 0 && this.steps.length >= this.settings.maxSteps) this.#cut = true;
    if (pending.length === 0 || this.#cut) return this.#end();
    // Flows are decided by now (the runs that made them are over): the events say who they are.
    // A flow found by the identity rules is named when first registered, from its first call;
    // one whose first call waits at its gate is named from that call, in the order of the gates,
    // so that every run and every replay names its flows alike.
    for (const p of pending) {
      const flow = resolved(p.flow);
      if (flow.autoName) completeName(flow, p.site ? siteOf(p.site)?.fn : undefined);
    }
    this.program.probe.flushEvents();
    return pending;
  }

  #end(): Pending[] {
    this.#over = true;
    return [];
  }

  /** Whether taking choice `index` of `pending` is the decision `expect` saved; stops if not. */
  follows(expect: readonly ScheduleStep[], pending: Pending[], index: number): boolean {
    const step = this.steps.length;
    const record = describe(pending[index]!, pending.length, this.base);
    const want = expect[step];
    if (want && sameStep(want, record)) return true;
    // The program no longer follows the schedule: what it would do next is not the run the
    // schedule describes, so the replay stops here.
    this.#divergedAt = pending[index];
    this.#diverged = { step, expected: want, found: record };
    this.#over = true;
    return false;
  }

  /** Lets choice `index` of `pending` go on. */
  choose(pending: Pending[], index: number): void {
    const chosen = pending[index]!;
    this.#picked.push(chosen);
    this.choices.push(index);
    this.steps.push(describe(chosen, pending.length, this.base));
    this.scheduler.turn++;
    this.scheduler.fire(chosen);
  }

  /** What a choice is, in words, with its flow's name. */
  describe(p: Pending, of: number): ScheduleStep {
    return { ...describe(p, of, this.base), flow: resolved(p.flow).name };
  }

  /** Drops a run without judging it: it stops listening to the probe, and its timers end. */
  dispose(): void {
    this.#over = true;
    this.#unsubscribe();
    endTimers(this.captured);
  }

  /** Ends the run (a replay's `expect` tells whether it ended early) and judges it. */
  finish(expect?: readonly ScheduleStep[]): RunResult {
    this.#over = true;
    const c = this.captured;
    this.program.probe.flushEvents();
    const steps = this.steps;
    if (expect && !this.#diverged && !this.#cut && steps.length < expect.length) {
      this.#diverged = { step: steps.length, expected: expect[steps.length], found: undefined };
    }
    // A run that ends with nothing left to run is a program gone idle; one that called
    // process.exit() ended there, as a real process would, and a replay that diverged was
    // stopped, so neither is judged as idle.
    endTimers(c);
    if (c.exit === undefined && !this.#divergedAt && !this.#cut && !this.#unsettled) {
      this.#analyzer.accept(this.#stream, { t: 'idle', ts: this.#analyzer.now });
    }
    this.#unsubscribe();
    // Flow names are complete once the run's flows were registered.
    this.#picked.forEach((p, i) => (steps[i]!.flow = resolved(p.flow).name));
    const found = this.#diverged?.found;
    if (this.#divergedAt && found) found.flow = resolved(this.#divergedAt.flow).name;
    const report = this.#analyzer.report({ maxIntervals: 0 });
    const errors = this.#mainFailed ? [this.#mainError, ...c.errors] : c.errors;
    // Anything thrown is an error, `undefined` too: `find` would not tell it from nothing.
    const at = errors.findIndex((e) => !(e instanceof ExitCalled));
    const error = at >= 0 ? errors[at] : undefined;
    const failing = report.findings.filter(
      (f) => f.certainty !== 'uncertain' && this.settings.fails(f),
    );
    let failure: Failure | undefined;
    if (at >= 0) failure = { kind: 'error', error };
    else if (c.exit !== undefined && c.exit !== 0) failure = { kind: 'exit', code: c.exit };
    else if (failing.length > 0) failure = { kind: 'finding', findings: failing };
    return {
      steps,
      choices: this.choices,
      analyzer: this.#analyzer,
      report,
      failure,
      reorderings: this.scheduler.reorderings.map((r) => ({
        fired: this.describe(r.fired, 1),
        overtook: this.describe(r.overtook, 1),
      })),
      output: c.output.join(''),
      waitedForReal: this.#waitedForReal,
      unsettled: this.#unsettled,
      cut: this.#cut,
      diverged: this.#diverged,
      unscheduled: [...this.#unscheduled],
      ...(this.#events ? { events: this.#events.lines } : {}),
    };
  }
}

/**
 * A run's events as lines of names (task, resource, site) without ids or times, which differ
 * from run to run even when the runs are the same. The probe's own `collected` events are left
 * out: when the garbage collector runs is not the program's doing.
 */
class EventLog {
  readonly lines: string[] = [];
  readonly #tasks = new Map<number, string>();
  readonly #resources = new Map<number, string>();
  readonly #sites = new Map<number, string>();
  constructor(private readonly base: string) {}
  add(m: Message): void {
    if (m.t === 'task') this.#tasks.set(m.id, m.name);
    else if (m.t === 'resource') this.#resources.set(m.id, m.name);
    else if (m.t === 'site') {
      this.#sites.set(m.id, `${relative(this.base, m.file).split(sep).join('/')}:${m.line}`);
    } else if (m.t === 'events') {
      for (const e of m.events) {
        if (e.op === 'collected') continue;
        const res = e.res === undefined ? '' : (this.#resources.get(e.res) ?? '?');
        const site = e.site ? (this.#sites.get(e.site) ?? '?') : '';
        this.lines.push(`${this.#tasks.get(e.task) ?? '?'} ${e.op} ${res} ${site} ${e.n ?? ''}`);
      }
    }
  }
}

/** Ends the timers a run's program left: the run is over. */
function endTimers(c: Captured): void {
  for (const [handle, kind] of c.timers) {
    if (kind === 'immediate') clearImmediate(handle as NodeJS.Immediate);
    else clearTimeout(handle as NodeJS.Timeout);
  }
  c.timers.clear();
}

/** One event-loop turn: every microtask the last choice started has run by then. */
function turn(): Promise<void> {
  return new Promise((resolve) => clock.setImmediate(resolve));
}

/**
 * Whether the program has work of its own under way: timers, immediates, I/O requests and
 * handles beyond what the process had when the run began (counted by kind, so that one that
 * went away does not hide another), and worker threads it started that have not exited (Node
 * lists no handle for those). A terminal is no work.
 */
class Activity {
  readonly #baseline = kinds();
  constructor(private readonly workers: () => number) {}
  busy(): boolean {
    return this.workers() > 0 || this.#beyond().length > 0;
  }

  onlyImmediates(): boolean {
    return this.workers() === 0 && this.#beyond().every((kind) => kind === 'Immediate');
  }

  #beyond(): string[] {
    const out: string[] = [];
    for (const [kind, n] of kinds()) if (n > (this.#baseline.get(kind) ?? 0)) out.push(kind);
    return out;
  }
}

function kinds(): Map<string, number> {
  const out = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind !== 'TTYWrap') out.set(kind, (out.get(kind) ?? 0) + 1);
  }
  return out;
}

function describe(p: Pending, of: number, base: string): ScheduleStep {
  const site = p.site ? siteOf(p.site) : undefined;
  const step: ScheduleStep = { of, flow: '', op: p.op };
  if (p.res) step.resource = p.res.name;
  if (p.due !== undefined) step.ms = p.ms;
  if (site) step.at = `${relative(base, site.file).split(sep).join('/')}:${site.line}`;
  return step;
}

/** Whether a decision met in a replay is the one the schedule saved (names aside). */
function sameStep(want: ScheduleStep, found: ScheduleStep): boolean {
  return (
    want.of === found.of &&
    want.op === found.op &&
    want.resource === found.resource &&
    want.at === found.at
  );
}
