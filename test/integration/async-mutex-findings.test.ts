/**
 * The bugs async-mutex's users report ("nested acquisition of the same lock deadlocks", "deadlock
 * from unknown source"), in programs that import lockscope/async-mutex: what `lockscope run`
 * reports of each, at which lines, and whether it stops the program.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import type { Report } from '../../runtime-probe/src/analysis/types.js';
import { runLockscope } from './run-program.js';

const fixtures = resolve(import.meta.dirname, '../fixtures/async-mutex');

/** Runs a fixture under `lockscope run --json`: its status, its stderr and its report. */
async function run(file: string): Promise<{ code: number; stderr: string; report: Report }> {
  const r = await runLockscope(['run', '--json', file], fixtures);
  assert.ok(r.stdout.startsWith('{'), r.stderr);
  return { code: r.code, stderr: r.stderr, report: JSON.parse(r.stdout) as Report };
}

/** The lines of `text` in the fixture (1-based), which must occur there `count` times. */
function linesOf(file: string, text: string, count = 1): number[] {
  const lines = readFileSync(join(fixtures, file), 'utf8').split('\n');
  const found = lines.flatMap((l, i) => (l.includes(text) ? [i + 1] : []));
  assert.equal(found.length, count, text);
  return found;
}

function lineOf(file: string, text: string): number {
  return linesOf(file, text)[0]!;
}

/** Each finding as `kind/pattern/severity`, and its sites as `line act`. */
function summary(report: Report): { finding: string; sites: string[] }[] {
  return report.findings
    .filter((f) => f.kind !== 'long-hold')
    .map((f) => ({
      finding: `${f.kind}/${f.pattern ?? ''}/${f.severity}`,
      sites: [...new Set(f.sites.map((s) => `${s.line} ${s.act}`))].sort(),
    }));
}

describe('async-mutex programs’ bugs under lockscope run', { concurrency: 2 }, () => {
  test('a nested acquisition of the same mutex is a self-deadlock, and stops the program', async () => {
    const { code, stderr, report } = await run('nested.ts');
    const outer = lineOf('nested.ts', 'await cache.runExclusive');
    const inner = lineOf('nested.ts', 'return cache.runExclusive');
    assert.deepEqual(summary(report), [
      {
        finding: 'self-deadlock//error',
        sites: [`${inner} waits`, `${outer} acquired`].sort(),
      },
    ]);
    assert.match(stderr, /stopped the program because it is deadlocked/);
    assert.equal(code, 1);
  });

  test('waiting for one’s own mutex to be free is blocked forever', async () => {
    const { code, report } = await run('wait-own.ts');
    assert.deepEqual(summary(report), [
      {
        finding: 'blocked-forever//error',
        sites: [
          `${lineOf('wait-own.ts', 'await config.waitForUnlock')} waits`,
          `${lineOf('wait-own.ts', 'await config.runExclusive')} acquired`,
        ].sort(),
      },
    ]);
    assert.equal(code, 1);
  });

  test('a cycle that withTimeout breaks is a warning, and the program goes on', async () => {
    const { code, stderr, report } = await run('backoff.ts');
    assert.deepEqual(
      summary(report).map((s) => s.finding),
      ['deadlock/timed-out/warning'],
    );
    assert.deepEqual(
      summary(report)[0]!.sites,
      [
        `${lineOf('backoff.ts', 'await withTimeout(second, 100)')} waits`,
        `${lineOf('backoff.ts', 'await second.runExclusive')} waits`,
        ...linesOf('backoff.ts', 'await first.runExclusive', 2).map((l) => `${l} acquired`),
      ].sort(),
    );
    assert.match(stderr, /timed out, backing off[\s\S]*done/);
    assert.doesNotMatch(stderr, /stopped the program/);
    assert.equal(code, 0);
  });
});
