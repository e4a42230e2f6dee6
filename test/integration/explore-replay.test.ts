// Replay is deterministic: for every example the scheduler can run, a schedule found by one run
// gives the same event sequence (by name, without times) every time it is replayed, in one
// process, the way `lockscope replay` runs it; and memory stays flat over many runs.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, test } from 'node:test';
import {
  Explorer,
  exploreSettings,
  type ExploreSettings,
} from '../../runtime-probe/src/explore/explorer.js';
import { loadProgram } from '../../runtime-probe/src/explore/program.js';
import { RandomStrategy, ReplayStrategy } from '../../runtime-probe/src/explore/strategies.js';
import { loops } from '../loops.js';

const root = resolve(import.meta.dirname, '../..');
// The garbage collector, without --expose-gc on the command line.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** The cross-thread example runs worker threads, which the scheduler does not control. */
const examples = readdirSync(join(root, 'examples'))
  .filter((f) => f.endsWith('.ts') && f !== 'cross-thread-deadlock.ts')
  .sort();

const settings: ExploreSettings = exploreSettings({ keepEvents: true });

describe('replay gives the same events every time', () => {
  const replays = loops(100, 100);
  for (const file of examples) {
    test(`${file}: ${replays} replays of one schedule, one event sequence`, async () => {
      const program = await loadProgram(join(root, 'examples', file));
      const explorer = new Explorer(program, settings);
      explorer.open();
      try {
        // A schedule of its own, from a seeded random run.
        const strategy = new RandomStrategy(7);
        strategy.begin(3);
        const first = await explorer.run(strategy);
        assert.ok(first.events!.length > 0);
        for (let i = 0; i < replays; i++) {
          const again = await explorer.run(new ReplayStrategy(first.choices), first.steps);
          assert.equal(again.diverged, undefined, `replay ${i + 1} diverged`);
          assert.deepEqual(again.choices, first.choices, `replay ${i + 1}`);
          assert.deepEqual(again.events, first.events, `replay ${i + 1}`);
          assert.equal(again.failure?.kind, first.failure?.kind);
        }
      } finally {
        explorer.close();
      }
    });
  }
});

describe('memory over many runs', () => {
  let explorer: Explorer;
  before(async () => {
    explorer = new Explorer(
      await loadProgram(join(root, 'examples', 'dining-philosophers-no-sleep.ts')),
      { ...settings, keepEvents: false },
    );
    explorer.open();
  });
  after(() => explorer.close());
  test('runs that deadlock and runs that end leave nothing behind', async (t) => {
    const runs = loops(2_000, 10_000);
    const strategy = new RandomStrategy(1);
    const heapAfter = async (n: number): Promise<number> => {
      for (let i = 0; i < n; i++) {
        strategy.begin(i);
        const r = await explorer.run(strategy);
        strategy.end(r.steps.length);
      }
      await new Promise((r) => setImmediate(r));
      // What is garbage is not memory held: collect it before reading the heap.
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    const warm = await heapAfter(runs / 10);
    const end = await heapAfter(runs);
    t.diagnostic(
      `heap after ${runs / 10} runs ${(warm / 2 ** 20).toFixed(1)} MiB, after ${runs} more ${(end / 2 ** 20).toFixed(1)} MiB`,
    );
    // Growth proportional to the runs would be tens of MiB by now (each run holds kilobytes).
    assert.ok(end - warm < 16 * 2 ** 20, `${((end - warm) / 2 ** 20).toFixed(1)} MiB more`);
  });
});
