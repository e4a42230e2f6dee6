// `lockscope explore` and `lockscope replay` on the examples, as a user runs them: every example
// whose bug is a matter of schedule is found (with PCT within 1,000 runs; the two that need a
// particular interleaving within 100), every fixed or clean one stays clean, a saved schedule
// replays, a replay that no longer fits is reported, and `--emit-test` writes a test that fails
// on the bug and passes once it is fixed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { loops } from '../loops.js';
import { NODE, runLockscope } from './run-program.js';

const root = resolve(import.meta.dirname, '../..');
const example = (name: string): string => join(root, 'examples', `${name}.ts`);
// Explore writes its schedules in the folder it runs in: a scratch folder inside the repository
// (test/.build is ignored), where `lockscope` resolves as in a user's project.
mkdirSync(join(root, 'test', '.build'), { recursive: true });
const work = mkdtempSync(join(root, 'test', '.build', 'explore-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Examples whose bug needs no more than a schedule (livelock, starvation, threads need more). */
const SCHEDULE_BUGS = [
  'dining-philosophers',
  'dining-philosophers-no-sleep',
  'lost-update',
  'producer-consumer-forgotten-close',
  'abandoned-lock',
  'barrier-short',
  'rwlock-read-reentry',
  'rwlock-read-under-write',
  'rwlock-upgrade',
  'lock-left-held',
  'go-style-deadlock',
];

const CLEAN = [
  'abandoned-lock-using',
  'barrier-phases',
  'consumer-woken-by-close',
  'dining-philosophers-ordered',
  'livelock-backoff',
  'lock-left-held-fixed',
  'lost-update-fixed',
  'producer-consumer-channel',
  'producer-consumer-condition',
  'rwlock-read-once',
  'rwlock-upgrade-fixed',
  'rwlock-write-passes-down',
  'select-timeout',
  'semaphore-pool',
];

function runsNeeded(stdout: string): number {
  const m = /Found in run (\d+) /.exec(stdout);
  assert.ok(m, stdout);
  return Number(m[1]);
}

describe('explore finds every schedule bug of the examples', { concurrency: 2 }, () => {
  for (const name of SCHEDULE_BUGS) {
    test(`${name}: found by PCT within 1,000 runs`, async (t) => {
      const r = await runLockscope(
        ['explore', '--strategy', 'pct', '--seed', '1', '--runs', '1000', example(name)],
        work,
      );
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const runs = runsNeeded(r.stdout);
      t.diagnostic(`${name}: found in run ${runs} (pct, depth 3, seed 1)`);
      assert.ok(runs <= 1000);
      assert.match(r.stdout, /Schedule saved to \.lockscope\/schedules\/.+\.json/);
    });
  }
  for (const name of ['dining-philosophers-no-sleep', 'lost-update']) {
    test(`${name}: found within 100 runs by the default strategy, for ${loops(5, 10)} seeds`, async (t) => {
      const needed: number[] = [];
      for (let seed = 1; seed <= loops(5, 10); seed++) {
        const r = await runLockscope(
          ['explore', '--seed', String(seed), '--runs', '100', example(name)],
          work,
        );
        assert.equal(r.code, 1, `seed ${seed}: ${r.stdout}${r.stderr}`);
        needed.push(runsNeeded(r.stdout));
      }
      t.diagnostic(`${name}: runs needed for seeds 1-${needed.length}: ${needed.join(', ')}`);
    });
  }
});

describe('explore keeps the fixed and clean examples clean', { concurrency: 2 }, () => {
  const runs = loops(500, 10_000);
  for (const name of CLEAN) {
    test(`${name}: ${runs} runs, no failing schedule`, async () => {
      const r = await runLockscope(
        ['explore', '--seed', '1', '--runs', String(runs), example(name)],
        work,
      );
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`no failing schedule in ${runs} runs`));
    });
  }
  test('calls a flow makes in one synchronous run are never interleaved with others', async () => {
    // Interleaving the two tasks' Promise.all of two acquires would make a deadlock that Node
    // cannot produce: a false alarm.
    const r = await runLockscope(
      [
        'explore',
        '--strategy',
        'dfs',
        '--runs',
        '100000',
        join(root, 'test', 'fixtures', 'explore', 'atomic-requests.ts'),
      ],
      work,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /every schedule up to 10000 decisions was run/);
  });
  // Correct programs that reach beyond lockscope (files, immediates, real timers, intervals,
  // worker threads, handlers of their own, calls not awaited): each once gave a false failure.
  for (const fixture of [
    'fs-write',
    'send-then-close',
    'one-flow-in-order',
    'own-rejection-handler',
    'interval-then-exit',
    'real-timer-first',
    'immediates',
    'worker-thread',
  ]) {
    test(`${fixture}: a correct program that uses more than lockscope stays clean`, async () => {
      const r = await runLockscope(
        [
          'explore',
          '--seed',
          '2',
          '--runs',
          String(loops(30, 300)),
          join(root, 'test', 'fixtures', 'explore', `${fixture}.ts`),
        ],
        work,
      );
      assert.equal(r.code, 0, r.stdout + r.stderr);
    });
  }
  test('dfs runs every schedule of a small program and says the space is exhausted', async () => {
    const r = await runLockscope(
      ['explore', '--strategy', 'dfs', '--runs', '100000', example('lost-update-fixed')],
      work,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /every schedule up to 10000 decisions was run/);
  });
});

describe('replay', () => {
  test('a saved schedule gives the same failure again, and a changed program diverges', async () => {
    const found = await runLockscope(
      ['explore', '--seed', '2', example('dining-philosophers-no-sleep')],
      work,
    );
    assert.equal(found.code, 1, found.stderr);
    const saved = /Schedule saved to (\S+)/.exec(found.stdout)![1]!;
    const again = await runLockscope(
      ['replay', example('dining-philosophers-no-sleep'), saved],
      work,
    );
    assert.equal(again.code, 1, again.stderr);
    assert.match(again.stdout, /deadlock {2}Deadlock: 5 tasks wait for each other in a cycle/);
    assert.doesNotMatch(again.stderr, /diverged/);
    const fixed = await runLockscope(
      ['replay', example('dining-philosophers-ordered'), saved],
      work,
    );
    assert.equal(fixed.code, 3, fixed.stdout + fixed.stderr);
    assert.match(
      fixed.stderr,
      /the replay diverged from the schedule at step \d+ and stopped there: expected .+, found /,
    );
  });
  test('a schedule that is not one is refused with what is wrong', async () => {
    const r = await runLockscope(['replay', '--schedule', '0.x.1', example('lost-update')], work);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not a valid schedule: step 2 of the schedule is "x", not a choice/);
  });
});

describe('--emit-test', () => {
  test('writes a short test that fails on the bug every time and passes once it is fixed', async () => {
    const dir = mkdtempSync(join(work, 'emit-'));
    const program = join(dir, 'lost-update.ts');
    copyFileSync(example('lost-update'), program);
    const testFile = join(dir, 'lost-update.test.mjs');
    const r = await runLockscope(['explore', '--seed', '1', '--emit-test', testFile, program], dir);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const text = readFileSync(testFile, 'utf8');
    const lines = text.trimEnd().split('\n').length;
    assert.ok(lines <= 45, `${lines} lines:\n${text}`);
    // The schedule is inline, each decision with its source line.
    assert.match(text, /\/\/ alice starts, lost-update\.ts:\d+: const alice = spawn/);
    // Without the test runner's own variable, which would make the child report to this one.
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const runTest = (): number | null =>
      spawnSync(NODE, ['--test', testFile], { cwd: dir, encoding: 'utf8', env }).status;
    for (let i = 0; i < loops(5, 100); i++) assert.notEqual(runTest(), 0, `run ${i + 1}`);
    copyFileSync(example('lost-update-fixed'), program);
    assert.equal(runTest(), 0);
  });
});
