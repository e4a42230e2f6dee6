/**
 * Runs a program again and again under the controlled scheduler, one schedule a run, until a
 * run fails (a finding that fails, an uncaught error, a failed assertion, a non-zero exit) or
 * the runs are spent.
 *
 * A run: the program is evaluated afresh (explore/program.ts) as the thread's main flow, with a
 * new Analyzer subscribed to the probe. Whenever nothing is left to run but the calls waiting at
 * their gates and the virtual timers (a turn of the event loop after the last choice), the
 * strategy chooses one of them. When none is left, the run is over, and the analysis judges it
 * as a program gone idle. Real timers and I/O of the program's own are not controlled: a run
 * waits for them (up to a limit) before it decides that nothing is left, and says it did.
 */
import { Console } from 'node:console';
import { dirname, relative, sep } from 'node:path';
import { Writable } from 'node:stream';
import { Analyzer, type AnalysisOptions } from '../analysis/engine.js';
import type { Finding, Report } from '../analysis/types.js';
import { clock } from '../clock.js';
import { completeName, ctxOf, resolved } from '../identity.js';
import type { Message } from '../protocol.js';
import { withRun } from '../runs.js';
import { rt } from '../runtime.js';
import { siteOf } from '../sites.js';
import type { Program, Surroundings } from './program.js';
import { Scheduler, type Pending } from './scheduler.js';
import type { Strategy } from './strategies.js';
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

const OUTPUT_LIMIT = 64 * 1024;
const SHARED_NOTE =
  'the Shared* primitives (SharedMutex and the others), whose waits block a thread and are not scheduled';
const THREADS_NOTE = 'worker threads, which run in parallel and are not scheduled';

/** Thrown into the program by its `process.exit()` while exploring: the run ends there. */
class ExitCalled extends Error {
  constructor(readonly code: number) {
    super(`process.exit(${code})`);
  }
}

export class Explorer {
  readonly #scheduler: Scheduler;
  #current: Captured = {
    errors: [],
    exit: undefined,
    output: [],
    size: 0,
  };
  #restore: (() => void) | undefined;
  /** Sites are written relative to the program's folder, so that a schedule travels. */
  readonly #base: string;

  constructor(
    readonly program: Program,
    readonly settings: ExploreSettings,
  ) {
    this.#scheduler = new Scheduler(settings.timers === 'ordered');
    this.#base = dirname(program.file);
  }

  /**
   * Installs the scheduler, and hears the program's uncaught errors. Its output, arguments and
   * `process.exit()` are its own `console` and `process` (`surroundings`), so that nothing else of
   * the process (a test runner's report, the explorer's own words) is taken for the program's.
   */
  open(): void {
    rt.explore = this.#scheduler;
    const onError = (e: unknown): void => {
      if (!(e instanceof ExitCalled)) this.#current.errors.push(e);
    };
    process.on('unhandledRejection', onError);
    process.on('uncaughtException', onError);
    this.#restore = () => {
      process.off('unhandledRejection', onError);
      process.off('uncaughtException', onError);
      rt.explore = undefined;
    };
  }

  /** The program's `console` and `process`: its output kept for the run, its exit a stop. */
  #surroundings(): Surroundings {
    const capture = new Writable({
      write: (chunk: Buffer | string, _encoding, done) => {
        const c = this.#current;
        const text = String(chunk);
        if (c.size < OUTPUT_LIMIT) c.output.push(text);
        c.size += text.length;
        done();
      },
    });
    const argv = [process.argv[0]!, this.program.file, ...this.settings.args];
    const exit = (code?: number | string | null): never => {
      const n = Number(code ?? process.exitCode ?? 0) || 0;
      this.#current.exit ??= n;
      throw new ExitCalled(n);
    };
    const own: Record<PropertyKey, unknown> = { stdout: capture, stderr: capture, argv, exit };
    const proc = new Proxy(process, {
      get(target, key) {
        if (key in own) return own[key];
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function'
          ? (value as (...a: unknown[]) => unknown).bind(target)
          : value;
      },
    });
    return { console: new Console({ stdout: capture, stderr: capture }), process: proc };
  }

  /** What the program wrote in the current run so far (cut at 64 KiB). */
  output(): string {
    return this.#current.output.join('');
  }

  close(): void {
    this.#restore?.();
    this.#restore = undefined;
  }

  /**
   * One run under `strategy`. With `expect` (a replay), each decision is checked against the
   * saved one; at the first that differs the run stops, and says where.
   */
  async run(strategy: Strategy, expect?: readonly ScheduleStep[]): Promise<RunResult> {
    const run = this.start();
    for (let pending = await run.next(); pending.length > 0; pending = await run.next()) {
      const index = strategy.choose({
        step: run.steps.length,
        flows: pending.map((p) => resolved(p.flow).id),
      });
      if (expect && !run.follows(expect, pending, index)) break;
      run.choose(pending, index);
    }
    return run.finish(expect);
  }

  /** Starts a run, which the caller drives decision by decision (`Run`). */
  start(): Run {
    const sched = this.#scheduler;
    sched.reset();
    this.#current = { errors: [], exit: undefined, output: [], size: 0 };
    resetNames();
    return new Run(
      this.program,
      this.settings,
      sched,
      this.#current,
      this.#base,
      this.#surroundings(),
    );
  }
}

/** What a run of the program captured of its surroundings. */
interface Captured {
  errors: unknown[];
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
  readonly #baseline: number;
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
    this.#baseline = realActivity();
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
    // The program's own immediates run in the next turns.
    for (let extra = 0; pending.length === 0 && extra < 2; extra++) {
      await turn();
      pending = sched.choices();
    }
    if (pending.length === 0) {
      // The program's own timers and I/O are not the scheduler's: wait for them.
      const deadline = clock.now() + this.settings.realWaitMs;
      while (pending.length === 0 && realActivity() > this.#baseline && clock.now() < deadline) {
        this.#waitedForReal = true;
        await new Promise((r) => clock.setTimeout(r, 1));
        await turn();
        pending = sched.choices();
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
    if (c.exit === undefined && !this.#divergedAt) {
      this.#analyzer.accept(this.#stream, { t: 'idle', ts: this.#analyzer.now });
    }
    this.#unsubscribe();
    // Flow names are complete once the run's flows were registered.
    this.#picked.forEach((p, i) => (steps[i]!.flow = resolved(p.flow).name));
    const found = this.#diverged?.found;
    if (this.#divergedAt && found) found.flow = resolved(this.#divergedAt.flow).name;
    const report = this.#analyzer.report({ maxIntervals: 0 });
    const errors = this.#mainFailed ? [this.#mainError, ...c.errors] : c.errors;
    const error = errors.find((e) => !(e instanceof ExitCalled));
    const failing = report.findings.filter(
      (f) => f.certainty !== 'uncertain' && this.settings.fails(f),
    );
    let failure: Failure | undefined;
    if (errors.length > 0 && error !== undefined) failure = { kind: 'error', error };
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

/** One event-loop turn: every microtask the last choice started has run by then. */
function turn(): Promise<void> {
  return new Promise((resolve) => clock.setImmediate(resolve));
}

/**
 * Timers and I/O of the process, which the program's own add to. Immediates (the probe's own
 * flushes among them) are left to the turns, and the terminal and closing handles are no work.
 */
const NO_WORK = new Set(['TTYWrap', 'Immediate', 'CloseReq']);
function realActivity(): number {
  let n = 0;
  for (const kind of process.getActiveResourcesInfo()) if (!NO_WORK.has(kind)) n++;
  return n;
}

/** Default names count from 1 again each run, so that every run names its flows alike. */
function resetNames(): void {
  for (const key of ['flow-names', 'resource-counters']) {
    (rt.states.get(key) as Map<string, number> | undefined)?.clear();
  }
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
