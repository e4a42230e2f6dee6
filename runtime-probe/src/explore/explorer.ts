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
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import { rt } from '../runtime.js';
import type { Program, RunTimers, Surroundings } from './program.js';
import { Run, ExitCalled, type Captured, type ExploreSettings, type RunResult } from './run.js';
import { Scheduler } from './scheduler.js';
import type { Strategy } from './strategies.js';
import type { ScheduleStep } from './schedule.js';
import { resolved } from '../identity.js';

export type { ExploreSettings, Failure, RunResult } from './run.js';
export { Run } from './run.js';

const OUTPUT_LIMIT = 64 * 1024;

export class Explorer {
  readonly #scheduler: Scheduler;
  #current: Captured = nothingCaptured();
  #restore: (() => void) | undefined;
  #active: Run | undefined;
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
    const onError =
      (event: string) =>
      (e: unknown): void => {
        if (e instanceof ExitCalled) return;
        // A program that handles its own uncaught errors decides what they mean, as in Node.
        const own = this.#current.listeners.get(event);
        if (own?.length) for (const listener of own) listener(e);
        else this.#current.errors.push(e);
      };
    const onRejection = onError('unhandledRejection');
    const onException = onError('uncaughtException');
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
    this.#restore = () => {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
      rt.explore = undefined;
    };
  }

  /** The program's `console` and `process`: its output kept for the run, its exit a stop. */
  #surroundings(): Surroundings {
    const capture = new Writable({
      write: (chunk: Buffer | string, _encoding, done) => {
        const c = this.#current;
        // Past the limit nothing more is kept, whatever the program writes, in any form.
        if (c.size < OUTPUT_LIMIT) {
          const text = String(chunk).slice(0, OUTPUT_LIMIT - c.size);
          c.output.push(text);
        }
        c.size += chunk.length;
        done();
      },
    });
    const argv = [process.argv[0]!, this.program.file, ...this.settings.args];
    const exit = (code?: number | string | null): never => {
      const n = Number(code ?? process.exitCode ?? 0) || 0;
      this.#current.exit ??= n;
      throw new ExitCalled(n);
    };
    const own: Record<PropertyKey, unknown> = {
      stdout: capture,
      stderr: capture,
      argv,
      exit,
      ...listenersOf(this.#current),
    };
    const proc = new Proxy(process, {
      get(target, key) {
        if (key in own) return own[key];
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function'
          ? (value as (...a: unknown[]) => unknown).bind(target)
          : value;
      },
    });
    const current = this.#current;
    return {
      console: new Console({ stdout: capture, stderr: capture }),
      process: proc,
      timers: runTimers(current),
      host: (id, load) => {
        const mod = load(id);
        if (id !== 'worker_threads' && id !== 'node:worker_threads') return mod;
        // Node lists no handle for a worker thread: the run counts the ones it started.
        const wt = mod as typeof import('node:worker_threads');
        class Worker extends wt.Worker {
          constructor(...args: ConstructorParameters<typeof wt.Worker>) {
            super(...args);
            current.workers++;
            this.once('exit', () => current.workers--);
          }
        }
        return { ...wt, Worker };
      },
    };
  }

  /** What the program wrote in the current run so far (cut at 64 KiB). */
  output(): string {
    return this.#current.output.join('');
  }

  close(): void {
    this.#active?.dispose();
    this.#active = undefined;
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

  /**
   * Starts a run, which the caller drives decision by decision (`Run`). A run still under way
   * (one a stepper left to step back) is dropped: it stops listening to the probe.
   */
  start(): Run {
    this.#active?.dispose();
    const sched = this.#scheduler;
    sched.reset();
    this.#current = nothingCaptured();
    resetNames();
    return (this.#active = new Run(
      this.program,
      this.settings,
      sched,
      this.#current,
      this.#base,
      this.#surroundings(),
    ));
  }
}

/**
 * The program's timers, the real ones, each kept with the run until it fires or is cleared, so
 * that the run knows the program has timers of its own under way, and ends what is left when it
 * ends (an interval of an earlier run must not run its code in a later one).
 */
function runTimers(current: Captured): RunTimers {
  const live = current.timers;
  type Callback = (...a: unknown[]) => void;
  return {
    setTimeout: ((fn: Callback, ms?: number, ...args: unknown[]) => {
      const handle = setTimeout(() => {
        live.delete(handle);
        fn(...args);
      }, ms);
      live.set(handle, 'timeout');
      return handle;
    }) as typeof setTimeout,
    setInterval: ((fn: Callback, ms?: number, ...args: unknown[]) => {
      const handle = setInterval(() => fn(...args), ms);
      live.set(handle, 'timeout');
      return handle;
    }) as typeof setInterval,
    setImmediate: ((fn: Callback, ...args: unknown[]) => {
      const handle = setImmediate(() => {
        live.delete(handle);
        fn(...args);
      });
      live.set(handle, 'immediate');
      return handle;
    }) as typeof setImmediate,
    clearTimeout: (h?: Parameters<typeof clearTimeout>[0]) => {
      if (h && typeof h === 'object') live.delete(h);
      clearTimeout(h);
    },
    clearInterval: (h?: Parameters<typeof clearInterval>[0]) => {
      if (h && typeof h === 'object') live.delete(h);
      clearInterval(h);
    },
    clearImmediate: (h?: NodeJS.Immediate) => {
      if (h) live.delete(h);
      clearImmediate(h);
    },
  };
}

/** Process events the explorer hears for the program: its listeners are the run's own. */
const OWN_EVENTS = new Set(['unhandledRejection', 'uncaughtException']);

/**
 * The program's `process.on` and friends for the events the explorer handles itself: kept with
 * the run (and gone with it), so that they neither pile up on the process nor go unheard.
 */
function listenersOf(current: Captured): Record<string, unknown> {
  const proc = process;
  const add = (name: string) =>
    function (event: string | symbol, listener: (...args: unknown[]) => void): NodeJS.Process {
      if (typeof event === 'string' && OWN_EVENTS.has(event)) {
        const list = current.listeners.get(event) ?? [];
        current.listeners.set(event, list);
        list.push(listener);
        return proc;
      }
      return (proc[name as 'on'] as (e: string | symbol, l: typeof listener) => NodeJS.Process)(
        event,
        listener,
      );
    };
  const remove = (name: string) =>
    function (event: string | symbol, listener: (...args: unknown[]) => void): NodeJS.Process {
      const list = typeof event === 'string' ? current.listeners.get(event) : undefined;
      if (list) {
        const i = list.indexOf(listener);
        if (i >= 0) list.splice(i, 1);
        return proc;
      }
      return (proc[name as 'off'] as (e: string | symbol, l: typeof listener) => NodeJS.Process)(
        event,
        listener,
      );
    };
  return {
    on: add('on'),
    addListener: add('addListener'),
    once: add('once'),
    prependListener: add('prependListener'),
    off: remove('off'),
    removeListener: remove('removeListener'),
  };
}

/** What a run has captured before it begins. */
function nothingCaptured(): Captured {
  return {
    errors: [],
    workers: 0,
    timers: new Map(),
    listeners: new Map(),
    exit: undefined,
    output: [],
    size: 0,
  };
}

/**
 * Settings with the defaults of `lockscope explore` for what is not given: timers in any
 * order, 10,000 decisions a run, 10 s of the program's own work at most, every error fails.
 */
export function exploreSettings(given: Partial<ExploreSettings> = {}): ExploreSettings {
  return {
    timers: 'any',
    maxSteps: 10_000,
    realWaitMs: 10_000,
    analysis: {},
    fails: (f) => f.severity === 'error',
    args: [],
    ...given,
  };
}

/** Default names count from 1 again each run, so that every run names its flows alike. */
function resetNames(): void {
  for (const key of ['flow-names', 'resource-counters']) {
    (rt.states.get(key) as Map<string, number> | undefined)?.clear();
  }
}
