/**
 * Robust shared locks, under `lockscope run`: a SharedMutex held by a worker that dies (it
 * throws, calls `process.exit()`, is terminated, or ends with the worker that started it) is
 * released for the next acquirer with `ownerDied`, although no thread has a wrapper of it that
 * could be walked at the death (each fixture thread checks that its own was garbage collected),
 * whichever thread made the lock (the main thread, a sibling of the holder, or the holder's
 * parent worker), and the report has one abandoned-lock finding per lock and nothing else.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Report } from '../../runtime-probe/src/analysis/types.js';
import { bundleFixture, lastJson, runLockscope } from './run-program.js';

// The workers run as JavaScript bundled beside the tests, importing the lockscope package as a
// user's worker would, with an inline source map back to the TypeScript fixture.
const WORKER = bundleFixture('robust-lock-worker', { sourcemap: true });

// Where the holder takes the lock, in the TypeScript fixture.
const HOLD_LINE =
  readFileSync(new URL('../fixtures/robust-lock-worker.ts', import.meta.url), 'utf8')
    .split('\n')
    .findIndex((line) => line.includes('(lock) => void lock.acquireSync()')) + 1;

const LOCKS = [
  'held by an orphan',
  'made by a parent worker',
  'made by a worker',
  'made by main (error)',
  'made by main (recover)',
];

/**
 * How certain each lock's finding is. A holder ended from outside (terminated, or with its
 * parent) could not send its last events, so what the analysis saw it hold is uncertain (`gap`),
 * unless the lock word's own `abandoned` event came first: at once where the next acquirer
 * takes the lock before the holder's exit is recorded (its parent worker, blocked or not), and
 * in a race for the sibling that waits while the holder's exit is recorded.
 */
function certainty(death: string, lock: string): string[] {
  if (lock === 'held by an orphan') return ['gap'];
  if (death !== 'terminate' || lock === 'made by a parent worker') return ['exact'];
  return lock === 'made by a worker' ? ['exact', 'gap'] : ['gap'];
}

describe('a shared lock whose holder thread dies', () => {
  for (const death of ['throw', 'exit', 'terminate']) {
    it(`is released for the next acquirer when its holder ends by ${death}`, async () => {
      // --expose-gc reaches the program (and its workers) through the environment. The long-hold
      // limit is far above any hold of the fixture however slow the machine, so that a finding
      // other than abandoned-lock can only come from what a dead thread left (the unit tests
      // check that none does after a thread's end, at any limit).
      const r = await runLockscope(
        [
          'run',
          '--json',
          '--long-hold-ms',
          '600000',
          'test/fixtures/robust-lock.ts',
          '--',
          WORKER,
          death,
        ],
        undefined,
        { NODE_OPTIONS: '--expose-gc' },
      );
      // Under --json, the program's own output goes to stderr.
      assert.deepEqual(
        lastJson(r.stderr),
        { recover: true, error: 'AbandonedLockError', sibling: true, nested: true, orphan: true },
        r.stderr,
      );
      const report = JSON.parse(r.stdout) as Report;
      assert.deepEqual(
        report.findings.map((f) => f.kind),
        LOCKS.map(() => 'abandoned-lock'),
        'one finding per lock; no long hold, deadlock or blocked wait left by the dead threads',
      );
      assert.deepEqual(report.findings.map((f) => f.resources[0]?.name).sort(), LOCKS);
      for (const f of report.findings) {
        const expected = certainty(death, f.resources[0]!.name);
        const got = f.certainty === 'exact' ? 'exact' : (f.uncertainty ?? []).join();
        assert.ok(expected.includes(got), `${f.title}: ${got}, expected ${expected.join(' or ')}`);
        assert.equal(f.severity, got === 'exact' ? 'error' : 'warning', f.title);
        const [held] = f.sites;
        assert.match(held?.file ?? '', /test[/\\]fixtures[/\\]robust-lock-worker\.ts$/, f.title);
        assert.equal(held?.line, HOLD_LINE, `${f.title}: the holder's acquisition`);
        assert.match(f.tasks[0]?.name ?? '', /holder/, `${f.title}: names the holder`);
      }
      assert.equal(r.code, 1, 'the exact abandoned locks fail the run');
    });
  }
});
