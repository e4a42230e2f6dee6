/**
 * What the async-mutex adapter costs a program with no sink (README, "Locks you already use"),
 * on async-mutex's CommonJS build, uncontended acquire + release:
 *
 * - `async_mutex_patched_nosink_ratio`, the bar (<= 1.2): patched against unpatched, side by
 *   side in one process with the probe loaded and no sink (`adapter-child.ts`: two copies of the
 *   package, one loaded before the adapters were installed, timed in alternating rounds);
 * - `async_mutex_patched_nosink_over_plain_ratio`, a bar too (<= 1.2): the patched package under
 *   `--import lockscope/register` against the package alone in a process without the probe
 *   (`mutex-child.ts`, the two processes in turn, pass after pass): what a user who loads the
 *   probe and records nothing pays, identity tracking included (register stops it until
 *   something records; `identity_await_loop_*` measures it when on).
 *
 * `node --import tsx bench/adapters.ts` runs it alone.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');

export interface AdapterCost {
  async_mutex_unpatched_nosink_ns_per_op: number;
  async_mutex_patched_nosink_ns_per_op: number;
  async_mutex_patched_nosink_ratio: number;
  async_mutex_plain_ns_per_op: number;
  async_mutex_under_register_nosink_ns_per_op: number;
  async_mutex_patched_nosink_over_plain_ratio: number;
}

/** No sink: a trace or collector set for the bench itself must not reach these processes. */
const NO_SINK = { LOCKSCOPE_TRACE: '', LOCKSCOPE_ENDPOINT: '' };

const CONFIGS = {
  plain: { args: [] as string[] },
  register: { args: ['--import', 'lockscope/register'] },
};

async function sample(args: string[], iterations: number): Promise<number> {
  const { stdout } = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      ...args,
      'bench/mutex-child.ts',
      'async-mutex-cjs',
      String(iterations),
      '5',
    ],
    {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, ...NO_SINK },
    },
  );
  return (JSON.parse(stdout.trim().split('\n').pop()!) as { nsPerOp: number }).nsPerOp;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

/** The adapter's own cost, in one process (adapter-child.ts). */
async function sideBySide(iterations: number): Promise<{ unpatched: number; patched: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'lockscope-bench-adapters-'));
  try {
    // A second copy of the package, which the process loads after installing the adapters.
    for (const pkg of ['async-mutex', 'tslib']) {
      cpSync(join(root, 'node_modules', pkg), join(dir, 'node_modules', pkg), { recursive: true });
    }
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/adapter-child.ts',
        join(dir, 'node_modules', 'async-mutex'),
        String(iterations),
        '9',
      ],
      { cwd: root, encoding: 'utf8', env: { ...process.env, ...NO_SINK } },
    );
    return JSON.parse(stdout.trim().split('\n').pop()!) as { unpatched: number; patched: number };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function measureAdapters(passes = 5, iterations = 200_000): Promise<AdapterCost> {
  const own = await sideBySide(iterations);
  const samples: Record<keyof typeof CONFIGS, number[]> = { plain: [], register: [] };
  for (let pass = 0; pass < passes; pass++) {
    for (const key of Object.keys(CONFIGS) as (keyof typeof CONFIGS)[]) {
      samples[key].push(await sample(CONFIGS[key].args, iterations));
    }
  }
  const plain = median(samples.plain);
  const register = median(samples.register);
  return {
    async_mutex_unpatched_nosink_ns_per_op: round(own.unpatched),
    async_mutex_patched_nosink_ns_per_op: round(own.patched),
    async_mutex_patched_nosink_ratio: round(own.patched / own.unpatched),
    async_mutex_plain_ns_per_op: round(plain),
    async_mutex_under_register_nosink_ns_per_op: round(register),
    async_mutex_patched_nosink_over_plain_ratio: round(register / plain),
  };
}

if (process.argv[1] === import.meta.filename) console.log(await measureAdapters());
