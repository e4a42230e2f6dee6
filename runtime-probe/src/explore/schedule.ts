/**
 * A schedule: the choices of one run, as a short string (`2.0.1.0`, one index a decision into
 * the calls then waiting, in the order they began to wait), and the file `lockscope explore`
 * saves it in, with what each decision was so that a replay can tell where it diverges. Read
 * from outside, so validated with limits before anything trusts it.
 */

/** One decision: which flow went on, at which call, among how many. */
export interface ScheduleStep {
  of: number;
  flow: string;
  op: string;
  resource?: string;
  /** A timer's length in (virtual) milliseconds. */
  ms?: number;
  /** `file:line`, the file relative to the program's folder. */
  at?: string;
}

export interface ScheduleFile {
  lockscopeSchedule: 1;
  /** The program, relative to the folder the schedule was saved from. */
  program: string;
  timers: 'any' | 'ordered';
  strategy: string;
  seed: number;
  run: number;
  /** The choices, as `toScheduleString` writes them. */
  schedule: string;
  steps: ScheduleStep[];
  /** What the run found, in words. */
  found: string;
}

/** The most decisions a schedule may hold, and the longest text read as one. */
export const MAX_STEPS = 1_000_000;
const MAX_TEXT = 64 * 1024 * 1024;

export function toScheduleString(choices: readonly number[]): string {
  return choices.join('.');
}

export class ScheduleError extends Error {}

export function parseScheduleString(text: string): number[] {
  if (text === '') return [];
  if (text.length > MAX_TEXT) throw new ScheduleError('the schedule is too long');
  const parts = text.split('.');
  if (parts.length > MAX_STEPS)
    throw new ScheduleError(`a schedule has at most ${MAX_STEPS} steps`);
  return parts.map((p, i) => {
    if (!/^\d{1,7}$/.test(p)) {
      throw new ScheduleError(`step ${i + 1} of the schedule is "${p.slice(0, 20)}", not a choice`);
    }
    return Number(p);
  });
}

/** Reads a schedule file's text, or throws a ScheduleError that says what is wrong. */
export function parseScheduleFile(text: string): ScheduleFile {
  if (text.length > MAX_TEXT) throw new ScheduleError('the file is too large for a schedule');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ScheduleError(`not JSON: ${(err as Error).message}`);
  }
  const o = data as Partial<Record<keyof ScheduleFile, unknown>>;
  if (typeof data !== 'object' || data === null || o.lockscopeSchedule !== 1) {
    throw new ScheduleError('not a Lockscope schedule (no "lockscopeSchedule": 1)');
  }
  const string = (k: keyof ScheduleFile): string => {
    if (typeof o[k] !== 'string') throw new ScheduleError(`"${k}" must be a string`);
    return o[k];
  };
  const number = (k: keyof ScheduleFile): number => {
    if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) {
      throw new ScheduleError(`"${k}" must be a number`);
    }
    return o[k];
  };
  const timers = string('timers');
  if (timers !== 'any' && timers !== 'ordered') {
    throw new ScheduleError('"timers" must be "any" or "ordered"');
  }
  const schedule = string('schedule');
  const choices = parseScheduleString(schedule);
  if (!Array.isArray(o.steps) || o.steps.length !== choices.length) {
    throw new ScheduleError('"steps" must list one decision per choice of "schedule"');
  }
  const steps = o.steps.map((s: unknown, i): ScheduleStep => {
    const x = s as Partial<Record<keyof ScheduleStep, unknown>>;
    const ok =
      typeof s === 'object' &&
      s !== null &&
      typeof x.of === 'number' &&
      typeof x.flow === 'string' &&
      typeof x.op === 'string' &&
      (x.resource === undefined || typeof x.resource === 'string') &&
      (x.ms === undefined || typeof x.ms === 'number') &&
      (x.at === undefined || typeof x.at === 'string');
    if (!ok) throw new ScheduleError(`step ${i + 1} is not a decision ({ of, flow, op, ... })`);
    return s as ScheduleStep;
  });
  return {
    lockscopeSchedule: 1,
    program: string('program'),
    timers,
    strategy: string('strategy'),
    seed: number('seed'),
    run: number('run'),
    schedule,
    steps,
    found: string('found'),
  };
}

/** One decision in words: `dine #2 acquire fork 3 (dining.ts:14)`. */
export function stepWords(s: ScheduleStep): string {
  const what =
    s.op === 'sleep' || s.op === 'timeout'
      ? `${s.op} ${s.ms ?? 0} ms ends`
      : s.op === 'start'
        ? 'starts'
        : `${s.op}${s.resource ? ` ${s.resource}` : ''}`;
  return `${s.flow} ${what}${s.at ? ` (${s.at})` : ''}`;
}
