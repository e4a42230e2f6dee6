/**
 * What a newcomer tries first, end to end through the `lockscope` bin on the Node under test:
 * top-level await in a CommonJS package, a WorkerPool whose script is TypeScript, a pool script
 * that fails at start-up, and a program that deadlocks with async-mutex alone.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { runLockscope, type CliResult } from './run-program.js';

const root = resolve(import.meta.dirname, '../..');
const fixtures = resolve(root, 'test/fixtures/newcomer');

function lockscope(cwd: string, ...args: string[]): Promise<CliResult> {
  return runLockscope(args, cwd);
}

describe('a newcomer’s first programs', () => {
  const cjs = resolve(fixtures, 'cjs-package');
  const esm = resolve(fixtures, 'esm-package');

  test('top-level await in a CommonJS package runs, as an ES module', async () => {
    const r = await lockscope(cjs, 'run', '--json', 'top-level-await.ts');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\{"ran":true\}/);
    assert.doesNotMatch(r.stderr, /ERR_REQUIRE_ASYNC_MODULE/);
  });

  test('a CommonJS program in the same package still runs as CommonJS', async () => {
    const r = await lockscope(cjs, 'run', '--json', 'commonjs.ts');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\{"ran":true,"dirname":"string"\}/);
  });

  test('a WorkerPool whose script is a .ts file answers every job', async () => {
    const r = await lockscope(esm, 'run', 'pool.ts');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\[1,4,9,16\]$/m);
  });

  test('a pool script that fails at start-up: its own error, in the jobs and in the output', async () => {
    const r = await lockscope(esm, 'run', 'pool.ts', '--', 'broken-start.ts');
    assert.equal(r.code, 0, r.stderr);
    const results = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('['))!) as string[];
    assert.equal(results.length, 4, 'every job was answered, none hangs');
    for (const result of results) {
      assert.match(result, /WorkerJobError: .*no port configured for the worker/);
    }
    assert.match(
      r.stderr,
      /a worker of the pool for .*broken-start\.ts failed: .*no port configured/,
    );
  });

  test('a deadlock with async-mutex only: observed unchanged, reported, the program stopped', async () => {
    const r = await lockscope(esm, 'run', 'async-mutex-deadlock.ts');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /stopped the program because it is deadlocked/);
    assert.match(r.stdout, /transfer #1 waits for mutex 2, held by transfer #2/);
    assert.doesNotMatch(r.stderr, /no lock operations were observed|did not start/);
  });

  test('flows still blocked when the program exits 0 make the run inconclusive, never clean', async () => {
    const r = await lockscope(esm, 'run', 'exit-while-waiting.ts');
    assert.equal(r.code, 3, r.stderr);
    assert.match(
      r.stderr,
      /inconclusive: 1 flow was still blocked when the program ended \(consumer\)/,
    );
  });

  test('a job that kills its worker fails alone: the pool replaces the worker and shuts down', async () => {
    const r = await lockscope(esm, 'run', 'crash-pool.ts');
    assert.equal(r.code, 0, r.stderr);
    const results = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('['))!) as string[];
    assert.equal(results[0], 'ok');
    assert.match(results[1]!, /WorkerJobError: the worker running job 2 exited with code 1/);
    assert.equal(results[2], 'later');
    assert.doesNotMatch(r.stderr, /before it called serve/);
  });

  test('a .ts pool script in a CommonJS package answers every job too', async () => {
    const r = await lockscope(cjs, 'run', 'pool.ts');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\[1,4,9\]$/m);
  });
});
