/**
 * Where the recording time goes, stage by stage: `node --import tsx bench/profile.ts`. Each stage
 * runs in fresh processes (uncontended acquire + release of one Mutex, median of 5 rounds of
 * 200,000 in each, median of 3 processes) with a sink that does more each time: none attached; attached but dropping each batch
 * (the record path: identity of the event, the enqueue, registries, the flush); encoding each
 * batch; encoding and writing it to a file. Then the two fixed costs every event or capture pays
 * on this machine: a clock read and a stack capture. Printed, not asserted: bench/README.md keeps
 * the figures.
 */
import { execFileSync } from 'node:child_process';
import { openSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configure, Mutex } from '../runtime-probe/src/index.js';
import { attachSink } from '../runtime-probe/src/recorder.js';
import type { Batch, Sink, StackMode } from '../runtime-probe/src/runtime.js';

const STAGES = ['no sink', 'record', 'record + encode', 'record + encode + write'] as const;
type Stage = (typeof STAGES)[number];
const N = 200_000;

/** One stage, in this process: prints its ns per acquire + release. */
async function measure(stage: Stage, stacks: StackMode): Promise<void> {
  configure({ stacks });
  const fd = openSync(join(tmpdir(), `lockscope-profile-${process.pid}.jsonl`), 'w');
  const sink: Sink = {
    kind: 'profile',
    target: 'profile',
    takesForwarded: false,
    write(batch: Batch) {
      if (stage === 'record + encode') batch.bytes();
      if (stage === 'record + encode + write') writeSync(fd, batch.bytes());
    },
    control() {},
    close() {},
    stats: () => ({ kind: 'profile', target: '', sent: 0, dropped: 0, inFlight: 0, error: '' }),
  };
  if (stage !== 'no sink') attachSink(sink);
  const m = new Mutex({ name: 'profile' });
  const loop = async (): Promise<void> => {
    for (let i = 0; i < N; i++) (await m.acquire()).release();
  };
  await loop();
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    await loop();
    rounds.push(Number(process.hrtime.bigint() - t0) / N);
  }
  rounds.sort((a, b) => a - b);
  console.log(rounds[2]!.toFixed(0));
}

/** A fixed cost: ns per call of `f`, after a warm-up. */
function perCall(f: () => unknown): number {
  for (let i = 0; i < 100_000; i++) f();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 1_000_000; i++) f();
  return Number(process.hrtime.bigint() - t0) / 1_000_000;
}

const [stage, stacks] = process.argv.slice(2);
if (stage) {
  await measure(stage as Stage, (stacks ?? 'off') as StackMode);
} else {
  const self = fileURLToPath(import.meta.url);
  for (const mode of ['off', 'blocking'] as const) {
    console.log(`LOCKSCOPE_STACKS=${mode}: ns per uncontended acquire + release (2 events)`);
    // Three processes per stage, interleaved, and the median: one process's JIT can be unlucky.
    const runs = new Map<Stage, number[]>(STAGES.map((s) => [s, []]));
    for (let pass = 0; pass < 3; pass++) {
      for (const s of STAGES) {
        const out = execFileSync(process.execPath, ['--import', 'tsx', self, s, mode], {
          encoding: 'utf8',
        });
        runs.get(s)!.push(Number(out.trim()));
      }
    }
    for (const [s, ns] of runs) console.log(`  ${s.padEnd(26)} ${ns.sort((a, b) => a - b)[1]}`);
  }
  const holder: { stack?: unknown } = {};
  console.log('fixed costs, ns per call');
  console.log(`  clock read (performance.now)  ${perCall(() => performance.now()).toFixed(0)}`);
  console.log(
    `  stack capture, unformatted    ${perCall(() => Error.captureStackTrace(holder)).toFixed(0)}`,
  );
}
