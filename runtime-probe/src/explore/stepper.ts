/**
 * Step-through: one run of a program under the scheduler, with you as the scheduler. Each step
 * lets one flow go on to its next decision; stepping back replays the run to an earlier decision
 * (a run is fixed by its choices, explore/explorer.ts); continuing lets a strategy choose until
 * the run fails or ends. What the debug adapter (`lockscope debug-adapter`) shows comes from
 * here: the flows, each ready to go on, asleep or blocked and why, at its current line.
 */
import type { LiveState, Report } from '../analysis/types.js';
import { resolved } from '../identity.js';
import { siteOf } from '../sites.js';
import type { Explorer, Run, RunResult } from './explorer.js';
import type { Pending } from './scheduler.js';
import { stepWords } from './schedule.js';
import type { Strategy } from './strategies.js';

export interface Place {
  file: string;
  line: number;
  column: number;
}

/** A flow as a debugger shows a thread. */
export interface FlowView {
  id: number;
  name: string;
  /** `ready`: it can go on now; `asleep`: a timer of its; `blocked`: it waits in a primitive. */
  state: 'ready' | 'asleep' | 'blocked';
  /** What it is about to do, or what it waits for, in words. */
  why: string;
  /** Its current line: the call it waits at. */
  at: Place | undefined;
}

export interface StepView {
  /** Decisions taken so far. */
  step: number;
  flows: FlowView[];
  /** Set once the run is over: how it ended. */
  result: RunResult | undefined;
}

/**
 * The time line's most recent intervals a stop's analysis keeps: a stepped run makes a few per
 * decision, so this keeps a run of thousands of decisions whole while bounding what one stop sends.
 */
export const STOP_INTERVALS = 5_000;

/** A step that cannot be taken: the flow is blocked, unknown, or the run is over. */
export class StepRefused extends Error {}

export class Stepper {
  #run: Run | undefined;
  #pending: Pending[] = [];
  #result: RunResult | undefined;
  /** Each flow's last call, so that a flow blocked in a primitive shows where it waits. */
  #lastSite = new Map<number, number>();

  constructor(readonly explorer: Explorer) {}

  /** Starts the run over, and stops at its first decision. */
  async restart(): Promise<StepView> {
    return this.#replay([]);
  }

  /** The choices taken so far, as a schedule's choices. */
  get choices(): readonly number[] {
    return this.#run?.choices ?? [];
  }

  /** Lets `flow` go on to its next decision (by default the first that can). */
  async step(flow?: number): Promise<StepView> {
    if (this.#result) throw new StepRefused('the run is over: restart or step back');
    const index =
      flow === undefined ? 0 : this.#pending.findIndex((p) => resolved(p.flow).id === flow);
    if (index < 0) {
      const f = this.view().flows.find((x) => x.id === flow);
      throw new StepRefused(
        f ? `${f.name} cannot go on now: it ${f.why}` : `no flow ${String(flow)} in this run`,
      );
    }
    await this.#take(index);
    return this.view();
  }

  /** Lets `strategy` choose until the run fails or ends, or `limit` decisions were taken. */
  async continue(strategy: Strategy, limit = Infinity): Promise<StepView> {
    for (let n = 0; !this.#result && n < limit; n++) {
      const index = strategy.choose({
        step: this.choices.length,
        flows: this.#pending.map((p) => resolved(p.flow).id),
      });
      await this.#take(index);
    }
    return this.view();
  }

  /** Replays the run to `steps` decisions before this one. */
  async back(steps = 1): Promise<StepView> {
    return this.goTo(Math.max(0, this.choices.length - steps));
  }

  /** Replays the decisions `choices` (a saved schedule's). */
  async goToChoices(choices: readonly number[]): Promise<StepView> {
    return this.#replay(choices);
  }

  /** Replays the run's first `step` decisions. */
  async goTo(step: number): Promise<StepView> {
    return this.#replay(this.choices.slice(0, step));
  }

  async #replay(choices: readonly number[]): Promise<StepView> {
    this.#run = this.explorer.start();
    this.#result = undefined;
    this.#lastSite.clear();
    this.#pending = await this.#run.next();
    if (this.#pending.length === 0) this.#result = this.#run.finish();
    for (const index of choices) {
      if (this.#result) break;
      await this.#take(Math.min(index, this.#pending.length - 1));
    }
    return this.view();
  }

  async #take(index: number): Promise<void> {
    const run = this.#run!;
    const chosen = this.#pending[index]!;
    this.#lastSite.set(resolved(chosen.flow).id, chosen.site);
    run.choose(this.#pending, index);
    this.#pending = await run.next();
    if (this.#pending.length === 0) this.#result = run.finish();
  }

  /**
   * The run's analysis as it stands at this decision: its report (findings, graph, the last
   * `maxIntervals` of its time line) and its live state, for the views that follow the step.
   */
  analysis(maxIntervals = STOP_INTERVALS): { report: Report; state: LiveState } | undefined {
    const analyzer = this.#run?.analyzer;
    return analyzer && { report: analyzer.report({ maxIntervals }), state: analyzer.state() };
  }

  /** The flows now: each ready to go on, asleep or blocked, and where. */
  view(): StepView {
    const run = this.#run;
    if (!run) return { step: 0, flows: [], result: undefined };
    const flows: FlowView[] = [];
    const seen = new Set<number>();
    const choosable = new Set(this.#result ? [] : this.#pending);
    for (const p of run.scheduler.all()) {
      const id = resolved(p.flow).id;
      if (seen.has(id)) continue;
      seen.add(id);
      const words = run.describe(p, 1);
      const timer = p.due !== undefined;
      flows.push({
        id,
        name: words.flow,
        state: timer ? 'asleep' : 'ready',
        why: timer
          ? `sleeps ${p.ms} ms${choosable.has(p) ? ' (its timer can end now)' : ' (a timer ends once no flow is ready)'}`
          : p.op === 'start'
            ? 'is about to start'
            : `is about to ${stepWords({ ...words, at: undefined, flow: '' }).trim()}`,
        at: placeOf(p.site),
      });
    }
    // The analysis knows who waits in a primitive, and for what.
    const state = run.analyzer.state();
    for (const proc of state.processes) {
      const holders = new Map(proc.resources.map((r) => [r.name, r.holders]));
      for (const t of proc.tasks) {
        const id = Number(t.key.slice(t.key.lastIndexOf(':') + 1));
        if (seen.has(id) || t.state !== 'blocked') continue;
        seen.add(id);
        const held = t.waitingFor ? (holders.get(t.waitingFor) ?? []) : [];
        flows.push({
          id,
          name: t.name,
          state: 'blocked',
          why: t.waitingFor
            ? `waits for ${t.waitingFor}${held.length ? `, held by ${held.join(', ')}` : ''}`
            : 'waits',
          at: placeOf(this.#lastSite.get(id) ?? 0),
        });
      }
    }
    // In the order the flows began, so that a thread list keeps its order from step to step.
    flows.sort((a, b) => a.id - b.id);
    return { step: run.choices.length, flows, result: this.#result };
  }
}

function placeOf(site: number): Place | undefined {
  const s = site ? siteOf(site) : undefined;
  return s ? { file: s.file, line: s.line, column: s.column } : undefined;
}
