/**
 * Schedules a second under `lockscope explore`'s scheduler, in one process as the command runs
 * them, for the dining philosophers and a 10-flow producer/consumer program; the heap after 10,000
 * runs against the heap after the first 2,000 (garbage collected first); and, as the baseline a
 * skeptic would choose, what one run costs as a process of its own (how the delay-injecting
 * tools run each attempt).
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Explorer, exploreSettings } from '../runtime-probe/src/explore/explorer.js';
import { loadProgram } from '../runtime-probe/src/explore/program.js';
import { Stepper } from '../runtime-probe/src/explore/stepper.js';
import { RandomStrategy } from '../runtime-probe/src/explore/strategies.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const root = resolve(import.meta.dirname, '..');

export interface ExploreResult {
  /** Step-through of a run of about 1,000 decisions: one Step at its end, and one Step Back. */
  stepMs: number;
  stepBackMs: number;
  stepDecisions: number;
  philosophersPerSec: number;
  producerConsumerPerSec: number;
  heapGrowthMiB: number;
  processPerRunMs: number;
}

async function schedulesPerSecond(file: string, runs: number): Promise<[number, number]> {
  const explorer = new Explorer(await loadProgram(file), exploreSettings());
  explorer.open();
  const strategy = new RandomStrategy(1);
  const heap = (): number => {
    gc();
    return process.memoryUsage().heapUsed;
  };
  try {
    let warm = 0;
    const start = performance.now();
    for (let i = 0; i < runs; i++) {
      strategy.begin(i);
      const r = await explorer.run(strategy);
      strategy.end(r.steps.length);
      if (r.report.processes.some((p) => p.dropped > 0)) throw new Error('a run dropped events');
      if (i === runs / 5 - 1) warm = heap();
    }
    const seconds = (performance.now() - start) / 1000;
    return [runs / seconds, (heap() - warm) / 2 ** 20];
  } finally {
    explorer.close();
  }
}

/**
 * Step and Step Back at the end of a long run, as the debug adapter does them, with the analysis
 * each stop sends (median of 5).
 */
async function stepLatency(): Promise<{ stepMs: number; stepBackMs: number; decisions: number }> {
  const explorer = new Explorer(
    await loadProgram(join(root, 'bench', 'programs', 'long-schedule.ts')),
    exploreSettings({ maxSteps: 100_000 }),
  );
  explorer.open();
  try {
    const stepper = new Stepper(explorer);
    await stepper.restart();
    const strategy = new RandomStrategy(1);
    strategy.begin(0);
    let view = await stepper.continue(strategy, 990);
    const steps: number[] = [];
    const backs: number[] = [];
    // Each stop also builds what the adapter sends with it: the run's analysis for the views.
    for (let i = 0; i < 5 && !view.result; i++) {
      let t0 = performance.now();
      view = await stepper.step();
      stepper.analysis();
      steps.push(performance.now() - t0);
      t0 = performance.now();
      view = await stepper.back();
      stepper.analysis();
      backs.push(performance.now() - t0);
      view = await stepper.step();
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    return { stepMs: median(steps), stepBackMs: median(backs), decisions: view.step };
  } finally {
    explorer.close();
  }
}

export async function measureExplore(): Promise<ExploreResult> {
  const latency = await stepLatency();
  const [philosophersPerSec, heapGrowthMiB] = await schedulesPerSecond(
    join(root, 'examples', 'dining-philosophers.ts'),
    10_000,
  );
  const [producerConsumerPerSec] = await schedulesPerSecond(
    join(root, 'bench', 'programs', 'producer-consumer-10.ts'),
    2_000,
  );
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    execFileSync(process.execPath, ['--import', 'tsx', 'bench/programs/producer-consumer-10.ts'], {
      cwd: root,
      stdio: 'ignore',
    });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return {
    stepMs: latency.stepMs,
    stepBackMs: latency.stepBackMs,
    stepDecisions: latency.decisions,
    philosophersPerSec,
    producerConsumerPerSec,
    heapGrowthMiB,
    processPerRunMs: times[1]!,
  };
}

if (process.argv[1] === import.meta.filename) console.log(await measureExplore());
