// Waits that may give up, fail-fast's refusals, and what the report says of them: a deadlock is
// an error (and stops the program) only when no wait of its cycle can end by itself.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { Report } from '../../runtime-probe/src/analysis/types.js';

const exec = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const cli = resolve(root, 'runtime-probe/dist/cli.cjs');

/** Runs a fixture under `lockscope run --json`: its exit status, its stderr and the findings. */
async function run(fixture: string): Promise<{ code: number; stderr: string; report: Report }> {
  let stdout = '';
  let stderr = '';
  let code = 0;
  try {
    ({ stdout, stderr } = await exec(
      process.execPath,
      [cli, 'run', '--json', `test/fixtures/fit/${fixture}`],
      { cwd: root, encoding: 'utf8', timeout: 60_000 },
    ));
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    ({ code } = e as { code: number });
    stdout = e.stdout ?? '';
    stderr = e.stderr ?? '';
  }
  return { code, stderr, report: JSON.parse(stdout) as Report };
}

/** The findings as `kind/pattern/severity` with how many of each. */
function counts(report: Report): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of report.findings) {
    if (f.kind === 'long-hold') continue;
    const key = `${f.kind}/${f.pattern ?? ''}/${f.severity}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

describe('waits that may give up', { concurrency: 2 }, () => {
  test('a cycle through a wait with a signal nobody aborts: a warning, and no stop', async () => {
    const { code, stderr, report } = await run('signal-cycle.ts');
    assert.deepEqual(counts(report), { 'deadlock/bounded/warning': 1 });
    assert.doesNotMatch(stderr, /stopped the program/);
    assert.equal(code, 0);
  });

  test('a join with a timeout that breaks a cycle: the program recovers', async () => {
    const { code, stderr, report } = await run('join-timeout.ts');
    assert.deepEqual(counts(report), { 'deadlock/timed-out/warning': 1 });
    assert.match(stderr, /join timed out[\s\S]*b got m[\s\S]*done/);
    assert.equal(code, 0);
  });

  test('a certain cycle beside one with a timeout is a deadlock', async () => {
    const { code, stderr, report } = await run('rw-two-cycles.ts');
    assert.deepEqual(counts(report), { 'deadlock//error': 1 });
    assert.deepEqual(
      report.findings
        .find((f) => f.kind === 'deadlock')!
        .tasks.map((t) => t.name)
        .sort(),
      ['b', 't'],
    );
    assert.match(stderr, /stopped the program because it is deadlocked/);
    assert.equal(code, 1);
  });

  test('asking again, with a timeout, for a lock one holds: a warning, and it goes on', async () => {
    const { code, stderr, report } = await run('self-timeout.ts');
    assert.deepEqual(counts(report), { 'self-deadlock//warning': 1 });
    assert.match(stderr, /timed out, going on[\s\S]*done/);
    assert.equal(code, 0);
  });
});

describe('fail-fast refusals', { concurrency: 2 }, () => {
  test('a cycle through a wait with a timeout is not refused', async () => {
    const { stderr, report } = await run('ff-bounded.ts');
    assert.doesNotMatch(stderr, /REFUSED/);
    assert.match(stderr, /b got x/);
    assert.deepEqual(counts(report), { 'deadlock/timed-out/warning': 1 });
  });

  test('a refused second read names the writer it queued behind', async () => {
    const { report } = await run('rw-reentry-ff.ts');
    assert.deepEqual(counts(report), { 'deadlock/averted/warning': 1 });
    assert.deepEqual(report.findings[0]!.tasks.map((t) => t.name).sort(), ['r', 'w']);
  });

  test('a refusal judged after a flush is still averted', async () => {
    // The judgement of b's wait waits for b's identity to be decided, and a flush comes first.
    const { code, stderr, report } = await run('ff-deferred.ts');
    assert.match(stderr, /b refused[\s\S]*done/);
    assert.deepEqual(counts(report), { 'deadlock/averted/warning': 1 });
    assert.equal(code, 0);
  });

  test('refusals split from their requests by full batches are still averted', async () => {
    for (const [fixture, n] of [
      ['selfdl-batch.ts', 20],
      ['cycle-batch.ts', 16],
    ] as const) {
      const { code, stderr, report } = await run(fixture);
      assert.deepEqual(counts(report), { 'deadlock/averted/warning': n }, fixture);
      assert.doesNotMatch(stderr, /stopped the program/, fixture);
      assert.equal(code, 0, fixture);
    }
  });
});

describe('fail-fast across threads, at the edges', { concurrency: 2 }, () => {
  test('a worker being terminated is no link of a cycle', async () => {
    const { stderr } = await exec(
      process.execPath,
      ['--import', 'tsx', 'test/fixtures/fit/term/main.mts'],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    assert.match(stderr, /P: got A, ownerDied=true/);
    assert.doesNotMatch(stderr, /REFUSED/);
  });

  test('workers with tables of their own never mistake one lock for another', async () => {
    const { stdout } = await exec(process.execPath, ['test/fixtures/fit/tables/main.mjs'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.match(stdout, /w1: got L3/);
    assert.doesNotMatch(stdout, /REFUSED/);
  });
});
