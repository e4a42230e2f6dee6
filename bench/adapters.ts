/**
 * What the async-mutex adapter costs a program with no sink (README, "Locks you already use"):
 * async-mutex's CommonJS build, uncontended acquire + release (`mutex-child.ts`), in three
 * processes measured in turn, pass after pass, and compared by their medians:
 *
 * - `plain`: the package alone, no probe;
 * - `off`: under `--import lockscope/register` with `LOCKSCOPE_ADAPTERS=none`, the package
 *   unpatched in a process where the probe runs (its identity hooks on);
 * - `patched`: under `--import lockscope/register`, the package patched, no sink.
 *
 * `patched / off` is the adapter's own cost, the bar (<= 1.2); `patched / plain` adds what the
 * probe's identity tracking costs every await of the program, which `identity_await_loop_*`
 * measures apart. `node --import tsx bench/adapters.ts` runs it alone.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');

export interface AdapterCost {
  async_mutex_plain_ns_per_op: number;
  async_mutex_unpatched_under_register_ns_per_op: number;
  async_mutex_patched_nosink_ns_per_op: number;
  async_mutex_patched_nosink_ratio: number;
  async_mutex_patched_nosink_over_plain_ratio: number;
}

const CONFIGS = {
  plain: { args: [] as string[], env: {} },
  off: { args: ['--import', 'lockscope/register'], env: { LOCKSCOPE_ADAPTERS: 'none' } },
  patched: { args: ['--import', 'lockscope/register'], env: {} },
};

async function sample(
  args: string[],
  env: Record<string, string>,
  iterations: number,
): Promise<number> {
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
      // No sink: a trace or collector set for the bench itself must not reach these processes.
      env: { ...process.env, LOCKSCOPE_TRACE: '', LOCKSCOPE_ENDPOINT: '', ...env },
    },
  );
  return (JSON.parse(stdout.trim().split('\n').pop()!) as { nsPerOp: number }).nsPerOp;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

export async function measureAdapters(passes = 5, iterations = 200_000): Promise<AdapterCost> {
  const samples: Record<keyof typeof CONFIGS, number[]> = { plain: [], off: [], patched: [] };
  for (let pass = 0; pass < passes; pass++) {
    for (const [key, c] of Object.entries(CONFIGS) as [
      keyof typeof CONFIGS,
      (typeof CONFIGS)['plain'],
    ][]) {
      samples[key].push(await sample(c.args, c.env, iterations));
    }
  }
  const plain = median(samples.plain);
  const off = median(samples.off);
  const patched = median(samples.patched);
  return {
    async_mutex_plain_ns_per_op: round(plain),
    async_mutex_unpatched_under_register_ns_per_op: round(off),
    async_mutex_patched_nosink_ns_per_op: round(patched),
    async_mutex_patched_nosink_ratio: round(patched / off),
    async_mutex_patched_nosink_over_plain_ratio: round(patched / plain),
  };
}

if (process.argv[1] === import.meta.filename) console.log(await measureAdapters());
