/**
 * Worker threads with lockscope's Worker and SharedMutex, in a real child process: a cross-thread
 * deadlock is seen at a socket collector while the workers hang, with both waits and their
 * TypeScript lines, and a lock abandoned by a worker that threw is released with the owner-died
 * signal and an `abandoned` event carrying the holder's acquisition site.
 */
import assert from 'node:assert/strict';

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { startCollector } from '../../runtime-probe/src/collector.js';
import type { Message, SiteMessage } from '../../runtime-probe/src/protocol.js';
import { bundleFixture, lastJson, NODE, readTrace, runProgram } from './run-program.js';

// The workers run as JavaScript bundled beside the tests, importing the lockscope package as a
// user's worker would, with an inline source map back to the TypeScript fixture.
const root = fileURLToPath(new URL('../..', import.meta.url));
const WORKER = bundleFixture('thread-worker', { sourcemap: true });
const POOL_WORKER = bundleFixture('pool-worker');
const POOL_MAP_WORKER = bundleFixture('pool-map-worker');

function sitesOf(messages: Message[]): Map<number, SiteMessage> {
  return new Map(messages.flatMap((m) => (m.t === 'site' ? [[m.id, m] as const] : [])));
}

describe('threads', () => {
  it('shows both waits of a cross-thread deadlock at a socket collector while the workers hang', async () => {
    const received: Message[] = [];
    const collector = await startCollector({ onMessage: (_c, m) => received.push(m) });
    try {
      const r = await runProgram(['test/fixtures/threads.ts', WORKER, 'deadlock'], collector.env());
      assert.equal(r.code, 0, r.stderr);
      const out = lastJson<{ deadlocked: boolean; threads: number[] }>(r.stdout);
      assert.equal(out.deadlocked, true, 'both locks stayed held: the workers hung');
      const resources = new Map(
        received.flatMap((m) => (m.t === 'resource' ? [[m.id, m.name] as const] : [])),
      );
      const requests = received
        .flatMap((m) => (m.t === 'events' ? m.events : []))
        .filter((e) => e.op === 'request');
      assert.deepEqual(requests.map((e) => resources.get(e.res!)).sort(), ['lock A', 'lock B']);
      const threads = requests.map((e) => Math.floor(e.task / 2 ** 32)).sort();
      assert.deepEqual(threads, [...out.threads].sort(), 'one wait from each worker thread');
      const sites = sitesOf(received);
      for (const e of requests) {
        const site = sites.get(e.site!);
        assert.ok(site, 'the wait has its site');
        assert.match(site.file, /test[/\\]fixtures[/\\]thread-worker\.ts$/);
        assert.equal(site.line, 22, 'the line of `second.acquireSync()`');
      }
    } finally {
      await collector.close();
    }
  });

  it('releases a lock whose worker threw while holding it, with the owner-died signal', async () => {
    const trace = join(root, 'test', '.build', 'abandoned.jsonl');
    const r = await runProgram(['test/fixtures/threads.ts', WORKER, 'abandon'], {
      LOCKSCOPE_TRACE: trace,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lastJson(r.stdout), { code: 1, ownerDied: true });
    const messages = readTrace(trace);
    const events = messages.flatMap((m) => (m.t === 'events' ? m.events : []));
    const abandoned = events.find((e) => e.op === 'abandoned');
    assert.ok(abandoned, 'an abandoned event');
    const acquiredInWorker = events.find(
      (e) => e.op === 'acquired' && Math.floor(e.task / 2 ** 32) !== 0,
    );
    assert.equal(abandoned.peer, acquiredInWorker?.task, 'it names the task that held the lock');
    const site = sitesOf(messages).get(abandoned.site!);
    assert.ok(site, "it carries the holder's acquisition site");
    assert.match(site.file, /thread-worker\.ts$/);
    assert.equal(site.line, 30);
    assert.ok(events.some((e) => e.op === 'thread-exit' && e.n === 1));
  });

  it('runs jobs on a pool of workers, returns their results and errors, and shuts down', async () => {
    const trace = join(root, 'test', '.build', 'pool.jsonl');
    const r = await runProgram(['test/fixtures/pool.ts', POOL_WORKER], { LOCKSCOPE_TRACE: trace });
    assert.equal(r.code, 0, r.stderr);
    const out = lastJson<{ results: unknown[]; allDone: boolean }>(r.stdout);
    assert.deepEqual(out.results, [
      1,
      4,
      9,
      16,
      'error: WorkerJobError: cannot square -5 here',
      36,
    ]);
    assert.equal(out.allDone, true);
    const events = readTrace(trace).flatMap((m) => (m.t === 'events' ? m.events : []));
    const exits = events.filter((e) => e.op === 'thread-exit');
    assert.equal(exits.length, 2, 'both workers exited');
    assert.ok(
      exits.every((e) => (e.n ?? 0) === 0),
      'cleanly, with exit code 0',
    );
    const jobs = events.filter((e) => e.op === 'task-start' && Math.floor(e.task / 2 ** 32) !== 0);
    assert.equal(jobs.length, 6, 'each job ran as a task in a worker');
  });

  it('maps a pool over inputs in input order, and gives futures in completion order', async () => {
    const r = await runProgram(['test/fixtures/pool-map.ts', POOL_MAP_WORKER]);
    assert.equal(r.code, 0, r.stderr);
    const out = lastJson<{
      map: { square: number; finished: number }[];
      mapError: string;
      completed: { index: number; result: unknown }[];
      refusals: string[];
      empty: unknown[];
      none: number;
    }>(r.stdout);
    assert.deepEqual(
      out.map.map((m) => m.square),
      [1, 4, 9],
      'the results in the order of the inputs',
    );
    assert.deepEqual(
      out.map.map((m) => m.finished),
      [3, 0, 1],
      'though the first input’s job ended last (after the two others and the drain)',
    );
    assert.equal(
      out.mapError,
      'WorkerJobError: cannot square -6 here',
      'the error of the first failing input, although -7 failed first',
    );
    assert.deepEqual(out.completed, [
      { index: 1, result: 121 },
      { index: 2, result: 'WorkerJobError: cannot square -12 here' },
      { index: 0, result: 100 },
    ]);
    assert.deepEqual(out.refusals, ['TypeError', 'TypeError', 'TypeError']);
    assert.deepEqual(out.empty, []);
    assert.equal(out.none, 0);
  });

  it('reports a lock held past the watchdog threshold by a worker stuck in a loop', async () => {
    const trace = join(root, 'test', '.build', 'stuck.jsonl');
    const r = await runProgram(['test/fixtures/threads.ts', WORKER, 'stuck'], {
      LOCKSCOPE_TRACE: trace,
      LOCKSCOPE_HOLD_WARN_MS: '200',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lastJson(r.stdout), { held: true });
    const messages = readTrace(trace);
    const events = messages.flatMap((m) => (m.t === 'events' ? m.events : []));
    const long = events.filter((e) => e.op === 'held-long');
    assert.equal(long.length, 1, 'reported once for the one hold');
    assert.ok((long[0]!.n ?? 0) >= 200);
    const site = sitesOf(messages).get(long[0]!.site!);
    assert.match(site?.file ?? '', /thread-worker\.ts$/);
    assert.equal(site?.line, 26, 'the line of the acquisition in the stuck worker');
  });

  it('still reports to a collector when the main thread and every worker are blocked', async () => {
    const received: Message[] = [];
    const collector = await startCollector({ onMessage: (_c, m) => received.push(m) });
    const child = spawn(
      NODE,
      ['--import', 'tsx', 'test/fixtures/threads.ts', WORKER, 'all-blocked'],
      { env: { ...process.env, ...collector.env() }, stdio: 'ignore' },
    );
    try {
      const requests = (): { task: number; res?: number }[] =>
        received
          .flatMap((m) => (m.t === 'events' ? m.events : []))
          .filter((e) => e.op === 'request');
      const deadline = Date.now() + 20_000;
      while (requests().length < 3 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const threads = requests().map((e) => Math.floor(e.task / 2 ** 32));
      assert.equal(requests().length, 3, 'both workers and the main thread wait');
      assert.equal(new Set(threads).size, 3, 'one wait from each of the three threads');
      assert.ok(threads.includes(0), "the main thread's own wait");
      assert.equal(child.exitCode, null, 'the process is still hung');
    } finally {
      child.kill('SIGKILL');
      await collector.close();
    }
  });
});
