// Lossless delivery under `lockscope run`: a program that outruns the collector waits for it
// rather than losing events, so a busy correct program is judged on every event it made.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Report } from '../../runtime-probe/src/analysis/types.js';
import { loops } from '../loops.js';
import { bundleFixture, runLockscope } from './run-program.js';

const WORKER = bundleFixture('delivery-worker');
const POOL_WORKER = bundleFixture('busy-pool-worker');

describe('lossless delivery under lockscope run', () => {
  test('a million lock operations that never yield arrive whole: exit 0, no finding, 0 dropped', async () => {
    const { code, stdout, stderr } = await runLockscope([
      'run',
      '--json',
      'test/fixtures/busy.ts',
      '--',
      '1000000',
    ]);
    const report = JSON.parse(stdout) as Report;
    assert.deepEqual(report.findings, []);
    assert.deepEqual(
      report.processes.map((p) => [p.produced, p.dropped, p.events]),
      [[2_000_000, 0, 2_000_000]],
      stderr,
    );
    // The probe's own count agrees: everything was written, nothing is still on its way.
    const stats = JSON.parse(
      stderr
        .trim()
        .split('\n')
        .find((l) => l.startsWith('{"produced"'))!,
    ) as {
      sent: number;
      dropped: number;
      inFlight: number;
    };
    assert.deepEqual([stats.sent, stats.dropped, stats.inFlight], [2_000_000, 0, 0]);
    assert.equal(code, 0);
  });

  // The exit paths: the last batches and `end` go through the I/O thread, which the exit waits for.
  for (const how of ['end', 'exit', 'throw']) {
    test(`every event arrives when the program ends by ${how}, every time`, async () => {
      for (let i = 0; i < loops(3, 100); i++) {
        const { stdout } = await runLockscope([
          'run',
          '--json',
          'test/fixtures/exit-paths.ts',
          '--',
          how,
        ]);
        const report = JSON.parse(stdout) as Report;
        assert.deepEqual(
          report.processes.map((p) => [p.produced, p.dropped, p.events]),
          [[2_000, 0, 2_000]],
          `run ${i + 1}`,
        );
      }
    });
  }

  // Workers' batches go to the I/O thread, which workers wait for and the exit drains.
  test('every worker event reaches the collector, on every exit path of the workers', async () => {
    for (let i = 0; i < loops(6, 200); i++) {
      const { code, report, stderr } = await runWhole(i, ['test/fixtures/delivery.ts', WORKER]);
      assertEachWorkerEnded(report, i);
      assert.equal(code, 0, stderr);
    }
  });

  for (const size of [2, 4]) {
    test(`a pool of ${size} busy workers: every event arrives, every time`, async () => {
      for (let i = 0; i < loops(6, 200); i++) {
        const { code, report, proc, stderr } = await runWhole(i, [
          'test/fixtures/busy-pool.ts',
          POOL_WORKER,
          String(size),
        ]);
        // Eight jobs of 5,000 take-and-release pairs in the workers, and the pool's own events:
        // every one of the workers' acquisitions is in the analysis, whichever worker ran it.
        assert.ok(proc.produced > 80_000, `run ${i + 1}: ${proc.produced} produced`);
        const taken = report.stats.resources
          .filter((r) => r.name === 'worker lock')
          .reduce((n, r) => n + r.acquisitions, 0);
        assert.equal(taken, 40_000, `run ${i + 1}`);
        assert.equal(code, 0, stderr);
      }
    });
  }

  test('the trace file and the collector get the same events', async () => {
    const trace = join(tmpdir(), `lockscope-both-${process.pid}.jsonl`);
    try {
      const { report } = await runWhole(0, ['test/fixtures/delivery.ts', WORKER], {
        LOCKSCOPE_TRACE: trace,
      });
      const fromTrace = await runLockscope(['report', '--json', trace]);
      const other = JSON.parse(fromTrace.stdout) as Report;
      // The same events give the same analysis: counts, contention and time line. Batches of
      // different threads interleave in the order they arrive, which differs between the main
      // thread (trace) and the I/O thread (collector), so resources are compared by name.
      const digest = (r: Report): unknown => ({
        processes: r.processes.map((p) => [p.produced, p.events, p.dropped]),
        resources: r.stats.resources
          .map((s) => [s.name, s.acquisitions, s.contended] as const)
          .sort((a, b) => a[0].localeCompare(b[0])),
        lanes: r.timeline.lanes.length,
        intervals: r.timeline.intervals.length,
        findings: r.findings.map((f) => f.id).sort(),
      });
      assert.deepEqual(digest(other), digest(report));
      assert.ok(report.processes[0]!.events > 1_000);
    } finally {
      rmSync(trace, { force: true });
    }
  });

  test('workers that post right before the process exits lose nothing', async () => {
    for (let i = 0; i < loops(3, 50); i++) {
      const { report, proc } = await runWhole(i, ['test/fixtures/exit-with-workers.ts', WORKER]);
      assert.ok(proc.produced > 200_000, `run ${i + 1}: ${proc.produced} produced`);
      assertEachWorkerEnded(report, i);
    }
  });
});

/** Runs a program under `lockscope run --json` and checks that every event it produced arrived. */
async function runWhole(
  i: number,
  program: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; report: Report; proc: Report['processes'][number]; stderr: string }> {
  const { code, stdout, stderr } = await runLockscope(
    ['run', '--json', ...program],
    undefined,
    env,
  );
  const report = JSON.parse(stdout) as Report;
  const [proc] = report.processes;
  assert.ok(proc, stderr);
  assert.deepEqual([proc.dropped, proc.events], [0, proc.produced], `run ${i + 1}: ${stderr}`);
  return { code, report, proc, stderr };
}

/** The last lock of each of the four delivery workers is in the report. */
function assertEachWorkerEnded(report: Report, i: number): void {
  const names = new Set(report.resources.map((r) => r.name));
  for (let w = 0; w < 4; w++) assert.ok(names.has(`w${w}-last`), `run ${i + 1}: worker ${w}`);
}
