/**
 * `lockscope explore` and `lockscope replay`: the command line of the controlled scheduler
 * (explore/). Options are validated here, where they enter; the report of a failing run is
 * printed as `lockscope run` prints one, followed by its schedule.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import type { Analyzer, AnalysisOptions } from './analysis/engine.js';
import type { Finding } from './analysis/types.js';
import { clock } from './clock.js';
import { EXIT } from './exit-status.js';
import { emitTest } from './explore/emit-test.js';
import { Explorer, exploreSettings, type RunResult } from './explore/explorer.js';
import { loadProgram, ProgramError, type Program } from './explore/program.js';
import {
  parseScheduleFile,
  parseScheduleString,
  ScheduleError,
  stepWords,
  toScheduleString,
  type ScheduleFile,
  type ScheduleStep,
} from './explore/schedule.js';
import {
  makeStrategy,
  ReplayStrategy,
  STRATEGIES,
  type StrategyName,
} from './explore/strategies.js';
import { writeStdout } from './line-writer.js';

export const EXPLORE_USAGE = `  lockscope explore [options] <program.ts|program.js> [-- args...]
      Runs the program again and again, each time under another schedule of its flows, until a
      run fails; prints what it found with the schedule, and saves the schedule for replay.
  lockscope replay [options] <program> <schedule.json>
      Runs the program once under a saved schedule (or --schedule 0.2.1...).

Options for explore and replay:
  --strategy <name>      random (default), pct or dfs
  --runs <n>             runs at most (default 1000)
  --seed <n>             the seed of the runs (default: random, printed); the same seed, the
                         same runs
  --depth <d>            pct's bug depth: the orderings a bug needs (default 3)
  --max-steps <n>        decisions a run may take (default 10000); dfs branches up to this many
  --timers <order>       any (default): timers may fire out of their nominal order, as I/O
                         latency varies; ordered: in Node's order, when every flow waits
  --timeout <seconds>    stop exploring after this long
  --emit-test <file>     write a node:test file that replays the failing schedule
  --schedule <choices>   replay only: the schedule as a string instead of a file`;

export const EXPLORE_OPTIONS = {
  strategy: { type: 'string' },
  runs: { type: 'string' },
  seed: { type: 'string' },
  depth: { type: 'string' },
  'max-steps': { type: 'string' },
  timers: { type: 'string' },
  'emit-test': { type: 'string' },
  schedule: { type: 'string' },
} as const;

export interface ExploreValues {
  strategy?: string;
  runs?: string;
  seed?: string;
  depth?: string;
  'max-steps'?: string;
  timers?: string;
  'emit-test'?: string;
  schedule?: string;
}

/** What the command line gives these commands. */
export interface ExploreCli {
  values: ExploreValues;
  analysis: Partial<AnalysisOptions>;
  failOn: ((f: Finding) => boolean) | undefined;
  /** Total time for explore, in seconds. */
  timeout: number | undefined;
  /** Prints the report of a run as `run` does and returns its exit status. */
  finish(analyzer: Analyzer, programFailed: string | undefined): number;
  usage(message: string): Error;
  refusal(message: string): Error;
}

function integer(
  cli: ExploreCli,
  name: keyof ExploreValues,
  fallback: number,
  min: number,
): number {
  const text = cli.values[name];
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) {
    throw cli.usage(`--${name} must be a whole number of at least ${min}, got "${text}"`);
  }
  return n;
}

/** A seed is 32 bits: a larger one would repeat a smaller one's runs under another number. */
function seedOf(cli: ExploreCli): number {
  const seed = integer(cli, 'seed', Math.floor(Math.random() * 2 ** 31), 0);
  if (seed >= 2 ** 32) throw cli.usage(`--seed must be below 2^32 (${2 ** 32}), got ${seed}`);
  return seed;
}

function settingsOf(cli: ExploreCli): {
  strategy: StrategyName;
  runs: number;
  seed: number;
  depth: number;
  maxSteps: number;
  timers: 'any' | 'ordered';
} {
  const strategy = (cli.values.strategy ?? 'random') as StrategyName;
  if (!STRATEGIES.includes(strategy)) {
    throw cli.usage(`--strategy must be one of ${STRATEGIES.join(', ')}, got "${strategy}"`);
  }
  const timers = cli.values.timers ?? 'any';
  if (timers !== 'any' && timers !== 'ordered') {
    throw cli.usage(`--timers must be "any" or "ordered", got "${timers}"`);
  }
  return {
    strategy,
    runs: integer(cli, 'runs', 1000, 1),
    seed: seedOf(cli),
    depth: integer(cli, 'depth', 3, 1),
    maxSteps: integer(cli, 'max-steps', 10_000, 1),
    timers,
  };
}

async function open(
  file: string,
  args: string[],
  timers: 'any' | 'ordered',
  maxSteps: number,
  cli: ExploreCli,
): Promise<Explorer> {
  let program;
  try {
    program = await loadProgram(resolve(file));
  } catch (err) {
    if (err instanceof ProgramError) throw cli.refusal(err.message);
    throw err;
  }
  const explorer = new Explorer(
    program,
    exploreSettings({
      timers,
      maxSteps,
      analysis: cli.analysis,
      ...(cli.failOn ? { fails: cli.failOn } : {}),
      args,
    }),
  );
  explorer.open();
  return explorer;
}

export async function exploreCommand(
  file: string,
  args: string[],
  cli: ExploreCli,
): Promise<number> {
  if (cli.values.schedule !== undefined) throw cli.usage('--schedule is for replay');
  const s = settingsOf(cli);
  const explorer = await open(file, args, s.timers, s.maxSteps, cli);
  const strategy = makeStrategy(s.strategy, s);
  const started = clock.now();
  const limit = cli.timeout === undefined ? Infinity : started + cli.timeout * 1000;
  let runs = 0;
  let found: RunResult | undefined;
  const notes = new Set<string>();
  let waited = 0;
  let cut = 0;
  let unsettled: { run: number; why: string } | undefined;
  let unsettledFailures = 0;
  try {
    for (; runs < s.runs && clock.now() < limit; runs++) {
      if (!strategy.begin(runs)) break;
      const result = await explorer.run(strategy);
      strategy.end(result.steps.length);
      for (const n of result.unscheduled) notes.add(n);
      if (result.waitedForReal) waited++;
      if (result.cut) cut++;
      // A failure in a run that did not settle needed an order of the program's own timers, I/O
      // or threads, which explore does not control: it is not a definite one.
      if (result.failure && result.unsettled) {
        unsettled ??= { run: runs + 1, why: result.unsettled };
        unsettledFailures++;
      } else if (result.failure) {
        found = result;
        runs++;
        break;
      }
    }
  } finally {
    explorer.close();
  }
  const how = `${s.strategy}${s.strategy === 'pct' ? `, depth ${s.depth}` : ''}, seed ${s.seed}`;
  const seconds = ((clock.now() - started) / 1000).toFixed(1);
  for (const n of notes) process.stderr.write(`lockscope: this program uses ${n}\n`);
  if (waited > 0) {
    process.stderr.write(
      `lockscope: ${waited} run${waited === 1 ? '' : 's'} waited for the program's own timers ` +
        'or I/O, which explore does not control: their order was not explored\n',
    );
  }
  if (!found) {
    const exhausted = strategy.exhausted
      ? `; every schedule up to ${s.maxSteps} decisions was run`
      : '';
    writeStdout(`✔ no failing schedule in ${runs} runs (${how}, ${seconds} s${exhausted})\n`);
    if (unsettled) {
      process.stderr.write(
        `lockscope: inconclusive: ${unsettledFailures} run${unsettledFailures === 1 ? '' : 's'} ` +
          `failed only where ${unsettled.why} (first: run ${unsettled.run}); replay one with ` +
          `--seed ${s.seed} --runs ${unsettled.run} to see it\n`,
      );
      return EXIT.inconclusive;
    }
    if (cut > 0) {
      process.stderr.write(
        `lockscope: inconclusive: ${cut} run${cut === 1 ? ' was' : 's were'} cut at ${s.maxSteps} decisions (--max-steps)\n`,
      );
      return EXIT.inconclusive;
    }
    return EXIT.clean;
  }
  const status = printRun(found, cli, explorer.program);
  writeStdout(`\nFound in run ${runs} (${how}, ${seconds} s).\n`);
  const saved = save(explorer, found, s, runs - 1);
  writeStdout(
    `Schedule saved to ${saved}\nReplay it: lockscope replay ${relativeTo(explorer.program.file)} ${saved}\n`,
  );
  const testFile = cli.values['emit-test'];
  if (testFile !== undefined) {
    const schedule = parseScheduleFile(readFileSync(saved, 'utf8'));
    writeFileSync(testFile, emitTest(resolve(testFile), explorer.program.file, schedule));
    writeStdout(`Regression test written to ${testFile} (node --test ${testFile})\n`);
  }
  return status === EXIT.clean ? EXIT.failed : status;
}

export async function replayCommand(
  file: string,
  scheduleFile: string | undefined,
  args: string[],
  cli: ExploreCli,
): Promise<number> {
  let saved: ScheduleFile | undefined;
  let choices: number[];
  try {
    if (cli.values.schedule !== undefined) {
      if (scheduleFile !== undefined)
        throw cli.usage('give a schedule file or --schedule, not both');
      choices = parseScheduleString(cli.values.schedule);
    } else {
      if (scheduleFile === undefined) throw cli.usage('replay needs a schedule file or --schedule');
      let text: string;
      try {
        text = readFileSync(scheduleFile, 'utf8');
      } catch (err) {
        throw cli.refusal(`cannot read ${scheduleFile}: ${(err as Error).message}`);
      }
      saved = parseScheduleFile(text);
      choices = parseScheduleString(saved.schedule);
    }
  } catch (err) {
    if (err instanceof ScheduleError) throw cli.refusal(`not a valid schedule: ${err.message}`);
    throw err;
  }
  const given = cli.values.timers;
  if (given !== undefined && given !== 'any' && given !== 'ordered') {
    throw cli.usage(`--timers must be "any" or "ordered", got "${given}"`);
  }
  const timers = given ?? saved?.timers ?? 'any';
  const maxSteps = integer(cli, 'max-steps', Math.max(10_000, choices.length), 1);
  const explorer = await open(file, args, timers, maxSteps, cli);
  let result: RunResult;
  try {
    result = await explorer.run(new ReplayStrategy(choices), saved?.steps);
  } finally {
    explorer.close();
  }
  const status = printRun(result, cli, explorer.program);
  if (result.diverged) {
    const { step, expected, found } = result.diverged;
    process.stderr.write(
      `lockscope: the replay diverged from the schedule at step ${step + 1} and stopped there: ` +
        `expected ${expected ? stepWords(expected) : 'the run to end'}, found ` +
        `${found ? stepWords(found) : 'the run ended'} (the program changed, or its order ` +
        'depends on more than its flows: time, I/O, randomness)\n',
    );
    return status === EXIT.clean ? EXIT.inconclusive : status;
  }
  return status;
}

/** Prints a run as `run` prints one, then its schedule; returns the run's exit status. */
function printRun(result: RunResult, cli: ExploreCli, program: Program): number {
  const failure = result.failure;
  if (failure?.kind === 'error') {
    const text =
      failure.error instanceof Error
        ? program.mapStack(failure.error.stack ?? `${failure.error.name}: ${failure.error.message}`)
        : describeError(failure.error);
    writeStdout(`✖ in this schedule the program threw: ${text}\n\n`);
  } else if (failure?.kind === 'exit') {
    writeStdout(`✖ in this schedule the program called process.exit(${failure.code})\n\n`);
  }
  const status = cli.finish(result.analyzer, undefined);
  writeStdout(`\nSchedule: ${result.steps.length} decisions\n`);
  writeStdout(scheduleLines(result.steps, result.choices));
  // Each pair once: a loop of sleeps repeats the same reordering.
  const reorderings = new Set(
    result.reorderings.map(
      (r) =>
        `  This run needs ${r.fired.flow}'s ${r.fired.ms} ms ${r.fired.op}${at(r.fired)} to end ` +
        `before ${r.overtook.flow}'s ${r.overtook.ms} ms ${r.overtook.op}${at(r.overtook)}, ` +
        'which was due first: timers out of their nominal order, as varying I/O latency can ' +
        'make them (--timers ordered keeps their order).\n',
    ),
  );
  for (const text of [...reorderings].slice(0, 3)) writeStdout(text);
  if (result.output) {
    const lines = result.output.trimEnd().split('\n');
    writeStdout(`\nThe program's output in this run (last ${Math.min(lines.length, 20)} lines):\n`);
    writeStdout(
      lines
        .slice(-20)
        .map((l) => `  | ${l}\n`)
        .join(''),
    );
  }
  return failure && failure.kind !== 'finding' ? EXIT.failed : status;
}

function at(s: ScheduleStep): string {
  return s.at ? ` at ${s.at}` : '';
}

/** The decisions, numbered; a long schedule shows its start and its end. */
function scheduleLines(steps: readonly ScheduleStep[], choices: readonly number[]): string {
  const line = (s: ScheduleStep, i: number): string =>
    `  ${String(i + 1).padStart(4)}. ${stepWords(s)}${s.of > 1 ? `  [${choices[i]! + 1} of ${s.of}]` : ''}\n`;
  if (steps.length <= 60) return steps.map(line).join('');
  return (
    steps.slice(0, 10).map(line).join('') +
    `        ... ${steps.length - 50} more ...\n` +
    steps
      .slice(-40)
      .map((s, i) => line(s, steps.length - 40 + i))
      .join('')
  );
}

function describeError(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  try {
    return String(err);
  } catch {
    // An object without a way to become text (Object.create(null)).
    return Object.prototype.toString.call(err);
  }
}

function relativeTo(file: string): string {
  const r = relative(process.cwd(), file);
  return r.startsWith('..') ? file : r.split(sep).join('/');
}

function save(
  explorer: Explorer,
  result: RunResult,
  s: { strategy: string; seed: number; timers: 'any' | 'ordered' },
  run: number,
): string {
  const dir = join('.lockscope', 'schedules');
  mkdirSync(dir, { recursive: true });
  const name = `${basename(explorer.program.file).replace(/\.[^.]*$/, '')}-${s.strategy}-${s.seed}-${run + 1}.json`;
  const file = join(dir, name);
  const f = result.failure!;
  const content: ScheduleFile = {
    lockscopeSchedule: 1,
    program: relativeTo(explorer.program.file),
    timers: s.timers,
    strategy: s.strategy,
    seed: s.seed,
    run: run + 1,
    schedule: toScheduleString(result.choices),
    steps: result.steps,
    found:
      f.kind === 'finding'
        ? f.findings.map((x) => x.title).join('; ')
        : f.kind === 'exit'
          ? `process.exit(${f.code})`
          : describeError(f.error).split('\n')[0]!,
  };
  writeFileSync(file, JSON.stringify(content, null, 2) + '\n');
  return file.split(sep).join('/');
}
