/**
 * Step-through in the editor, the parts without VS Code: the launch configuration of "Step
 * Through with Lockscope", how to start the debug adapter (`lockscope debug-adapter` of the
 * program's own lockscope), the line markers of each flow (a code cursor per flow), whether a file
 * uses lockscope (for its CodeLens), and the launch configuration of a saved schedule. Pure,
 * tested on plain Node.
 */
import { dirname, join } from 'node:path';
import { findInProject } from './launch.js';

/** The debug type the adapter serves. */
export const STEP_DEBUG_TYPE = 'lockscope';

export interface StepConfiguration {
  type: typeof STEP_DEBUG_TYPE;
  request: 'launch';
  name: string;
  program: string;
  schedule?: string;
}

export function stepConfiguration(program: string, schedule?: string): StepConfiguration {
  return {
    type: STEP_DEBUG_TYPE,
    request: 'launch',
    name: schedule ? 'Lockscope: Replay Schedule' : 'Lockscope: Step Through',
    program,
    ...(schedule ? { schedule } : {}),
  };
}

/** The adapter's command line, or why it cannot start. */
export type AdapterPlan = { command: string; args: string[]; cwd: string } | { problem: string };

/**
 * The adapter is the program's own lockscope (the one it imports), so that the scheduler and the
 * primitives are the same version.
 */
export function adapterPlan(program: unknown, nodePath: string): AdapterPlan {
  if (typeof program !== 'string' || program === '') {
    return { problem: 'Step Through needs a program: open a TypeScript or JavaScript file first.' };
  }
  const pkg = findInProject(dirname(program), 'lockscope/package.json');
  if (!pkg) {
    return {
      problem:
        `Step Through runs ${program} with its project's lockscope, which it cannot find: ` +
        'npm install lockscope (and tsx for TypeScript) in that project.',
    };
  }
  // The built CLI itself: a copy of the package made by "Open Example..." has no bin folder.
  return {
    command: nodePath,
    args: [join(dirname(pkg), 'dist', 'cli.cjs'), 'debug-adapter'],
    cwd: dirname(program),
  };
}

/** A flow as the adapter's `lockscope/flows` event describes it. */
export interface FlowMark {
  name: string;
  state: string;
  why: string;
  at?: { file: string; line: number; column: number } | undefined;
}

/**
 * The flows of the adapter's `lockscope/flows` event, checked where they enter the extension:
 * entries that are not flows are left out (and counted), never allowed to throw in the painter.
 */
export function parseFlowMarks(body: unknown): { marks: FlowMark[]; ignored: number } {
  const flows = (body as { flows?: unknown } | null)?.flows;
  if (!Array.isArray(flows)) return { marks: [], ignored: 1 };
  const marks = flows.filter(isFlowMark);
  return { marks, ignored: flows.length - marks.length };
}

function isFlowMark(value: unknown): value is FlowMark {
  const f = value as Partial<Record<keyof FlowMark, unknown>> | null;
  if (typeof f !== 'object' || f === null) return false;
  if (typeof f.name !== 'string' || typeof f.state !== 'string' || typeof f.why !== 'string') {
    return false;
  }
  const at = f.at as Partial<Record<'file' | 'line' | 'column', unknown>> | undefined;
  return (
    at === undefined ||
    (typeof at === 'object' &&
      at !== null &&
      typeof at.file === 'string' &&
      Number.isSafeInteger(at.line) &&
      (at.line as number) >= 1 &&
      Number.isSafeInteger(at.column))
  );
}

/** One marker at the end of a line: the flows stopped there. */
export interface LineMark {
  file: string;
  line: number;
  text: string;
  blocked: boolean;
}

/** The markers of every flow's current line, one per line (flows on one line share it). */
export function flowMarks(flows: readonly FlowMark[]): LineMark[] {
  const byLine = new Map<string, { file: string; line: number; flows: FlowMark[] }>();
  for (const f of flows) {
    if (!f.at) continue;
    const key = `${f.at.file}:${f.at.line}`;
    let entry = byLine.get(key);
    if (!entry) byLine.set(key, (entry = { file: f.at.file, line: f.at.line, flows: [] }));
    entry.flows.push(f);
  }
  return [...byLine.values()].map((e) => ({
    file: e.file,
    line: e.line,
    text: e.flows.map((f) => `◀ ${f.name} ${f.why}`).join('   '),
    blocked: e.flows.every((f) => f.state === 'blocked'),
  }));
}

/** Whether a source file imports lockscope, so that it gets the "Step Through" CodeLens. */
export function usesLockscope(text: string): boolean {
  return /\bfrom\s+['"]lockscope['"]|\brequire\(\s*['"]lockscope['"]\s*\)/.test(text);
}

/**
 * The launch configuration that opens a schedule saved by `lockscope explore` (its `program` is
 * relative to the folder explore ran in, which is where `.lockscope/` is). Throws what is wrong.
 */
export function scheduleConfiguration(scheduleFile: string, text: string): StepConfiguration {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error(`${scheduleFile} is not JSON`);
  }
  const program = (data as { program?: unknown } | null)?.program;
  if (typeof program !== 'string' || program === '') {
    throw new Error(`${scheduleFile} is not a schedule saved by lockscope explore`);
  }
  // .lockscope/schedules/x.json: the folder explore ran in is two levels up.
  const base = dirname(dirname(dirname(scheduleFile)));
  return stepConfiguration(join(base, program), scheduleFile);
}
