/**
 * One measurement process for bench/adapters.ts: two copies of async-mutex's CommonJS build in
 * one process with the probe loaded and no sink, the first loaded before the adapters were
 * installed (unpatched), the second after (patched), timed in alternating rounds of uncontended
 * acquire + release. Prints `{ unpatched, patched }`, the medians in ns per operation.
 *
 * Both copies run under the same promise hooks and in the same process, so the difference is the
 * adapter's alone, and the machine's load during the run weighs on both alike.
 */
import { createRequire } from 'node:module';
import { installAdapters } from 'lockscope';

interface AsyncMutexLike {
  acquire(): Promise<() => void>;
}
type MutexClass = new () => AsyncMutexLike;

const [copy, iterationsArg, roundsArg] = process.argv.slice(2);
if (!copy)
  throw new Error(
    'usage: adapter-child.ts <folder of a copy of async-mutex> [iterations] [rounds]',
  );
const iterations = Number(iterationsArg ?? 200_000);
const rounds = Number(roundsArg ?? 9);
const require = createRequire(import.meta.url);

const Unpatched = (require('async-mutex') as { Mutex: MutexClass }).Mutex;
installAdapters({});
const Patched = (require(copy) as { Mutex: MutexClass }).Mutex;

async function time(M: MutexClass): Promise<number> {
  const m = new M();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const release = await m.acquire();
    release();
  }
  return Number(process.hrtime.bigint() - t0) / iterations;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const unpatched: number[] = [];
const patched: number[] = [];
// A warm-up round of each, then alternate, so that drift in the machine's load hits both.
await time(Unpatched);
await time(Patched);
for (let r = 0; r < rounds; r++) {
  unpatched.push(await time(Unpatched));
  patched.push(await time(Patched));
}
process.stdout.write(
  JSON.stringify({ unpatched: median(unpatched), patched: median(patched) }) + '\n',
);
