/**
 * SharedMutex across real worker threads: mutual exclusion, blocking and asynchronous waits,
 * timeouts, abort, and the owner-died signal.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import {
  AbandonedLockError,
  BrokenBarrierError,
  SharedBarrier,
  SharedCondition,
  SharedMutex,
  SharedSemaphore,
  LockMisuseError,
  TimeoutError,
  AbortError,
} from '../../runtime-probe/src/index.js';

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

// Workers run a bundle of the fixture, built here, rather than TypeScript through a loader:
// Node 20 does not pass the parent's --import hooks on to workers.
const dir = mkdtempSync(join(tmpdir(), 'lockscope-workers-'));
const WORKER = join(dir, 'shared-worker.mjs');
buildSync({
  entryPoints: [fileURLToPath(new URL('../fixtures/shared-worker.ts', import.meta.url))],
  outfile: WORKER,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
});
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function start(job: Record<string, unknown>): Worker {
  // The test runner's flags, which workers inherit by default, must not run in them.
  const w = new Worker(WORKER, { workerData: job, execArgv: [] });
  // A worker may exit right after its last message, before the test listens for the exit.
  exits.set(w, new Promise((resolve) => w.once('exit', () => resolve())));
  return w;
}

const exits = new Map<Worker, Promise<void>>();

function exited(w: Worker): Promise<void> {
  return exits.get(w)!;
}

async function message<T>(w: Worker): Promise<T> {
  const [m] = (await once(w, 'message')) as [T];
  return m;
}

describe('SharedMutex', () => {
  it('excludes four workers from a read-modify-write on shared memory', async () => {
    const lock = new SharedMutex({ name: 'counter lock' });
    const counter = new SharedArrayBuffer(4);
    const rounds = 20_000;
    const workers = [0, 1, 2, 3].map(() =>
      start({ job: 'count', lock: lock.handle, counter, rounds }),
    );
    await Promise.all(workers.map((w) => message(w)));
    await Promise.all(workers.map(exited));
    assert.equal(new Int32Array(counter)[0], 4 * rounds, 'no update was lost');
    assert.equal(lock.isLocked, false);
  });

  it('lets the main thread wait asynchronously while a worker holds it', async () => {
    const lock = new SharedMutex({ name: 'held by worker' });
    const w = start({ job: 'hold', lock: lock.handle });
    await message(w);
    assert.equal(lock.isLocked, true);
    assert.equal(lock.ownerThread, w.threadId);
    assert.equal(lock.tryAcquire(), undefined);
    let acquired = false;
    const waiting = lock.acquire().then((g) => {
      acquired = true;
      return g;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(acquired, false, 'still held by the worker');
    w.postMessage('release');
    const guard = await waiting;
    assert.equal(lock.ownerThread, 0);
    assert.equal(guard.ownerDied, false);
    guard.release();
    await exited(w);
  });

  it('times out in a worker (blocking) and on the main thread (asynchronous)', async () => {
    const lock = new SharedMutex();
    const guard = await lock.acquire();
    const w = start({ job: 'try-timeout', lock: lock.handle, timeout: 20 });
    assert.deepEqual(await message(w), { outcome: 'timeout' });
    await exited(w);
    const holder = start({ job: 'hold', lock: lock.handle });
    guard.release();
    await message(holder);
    await assert.rejects(lock.acquire({ timeout: 20 }), TimeoutError);
    await assert.rejects(lock.acquire({ timeout: 0 }), TimeoutError);
    const controller = new AbortController();
    const aborted = lock.acquire({ signal: controller.signal });
    controller.abort(new Error('stop'));
    await assert.rejects(aborted, AbortError);
    holder.postMessage('release');
    await message(holder);
    using again = await lock.acquire();
    void again;
    await exited(holder);
  });

  it('grants a lock whose holder died with ownerDied set, or refuses it when so configured', async () => {
    for (const onOwnerDead of ['recover', 'error'] as const) {
      const lock = new SharedMutex({ name: `dies (${onOwnerDead})`, onOwnerDead });
      const w = start({ job: 'throw-holding', lock: lock.handle });
      const [err] = (await once(w, 'error')) as [Error];
      assert.match(err.message, /while holding the lock/);
      await exited(w);
      // The worker is node:worker_threads' own, whose exit nobody here follows: the thread
      // released the lock itself as it ended.
      assert.equal(lock.isLocked, false, 'released by the ending thread');
      if (onOwnerDead === 'recover') {
        const guard = await lock.acquire();
        assert.equal(guard.ownerDied, true, 'the next acquirer is told');
        guard.release();
        using next = await lock.acquire();
        assert.equal(next.ownerDied, false, 'only the first acquirer after the death is told');
      } else {
        await assert.rejects(lock.acquire(), AbandonedLockError);
        assert.throws(() => lock.tryAcquire(), AbandonedLockError);
        await assert.rejects(lock.acquire(), AbandonedLockError, 'until cleared');
        lock.clearAbandoned();
        using repaired = await lock.acquire();
        assert.equal(repaired.ownerDied, false);
      }
    }
  });

  it('is released on request for a thread whose end nobody saw', async () => {
    // Terminated (so it ran no exit listener) by a parent that is not lockscope's Worker: no
    // thread knows it ended, and only the program can say so.
    const lock = new SharedMutex({ name: 'terminated holder' });
    const w = start({ job: 'hold', lock: lock.handle });
    // Read now: Node reports -1 once the worker is disposed.
    const thread = w.threadId;
    await message(w);
    const waiting = lock.acquire();
    await w.terminate();
    assert.equal(lock.ownerThread, thread, 'the ended thread still holds it');
    assert.equal(lock.tryAcquire(), undefined);
    assert.equal(lock.releaseAbandoned(thread + 1), false, 'only for the owner thread');
    assert.equal(lock.releaseAbandoned(thread), true);
    assert.equal(lock.releaseAbandoned(thread), false, 'once');
    const guard = await waiting;
    assert.equal(guard.ownerDied, true);
    guard.release();
  });

  it('is taken over by tryAcquire, as by any acquirer, once its holder ended', async () => {
    const lock = new SharedMutex({ name: 'tried' });
    const w = start({ job: 'throw-holding', lock: lock.handle });
    w.on('error', () => {});
    await exited(w);
    const guard = lock.tryAcquire();
    assert.equal(guard?.ownerDied, true);
    guard.release();
  });
});

describe('SharedBarrier', () => {
  it('passes four workers through five generations, each index once per generation', async () => {
    const parties = 4;
    const generations = 5;
    let actions = 0;
    const barrier = new SharedBarrier(parties, { name: 'phases', action: () => actions++ });
    const seen = new SharedArrayBuffer(4 * parties * generations);
    const workers = Array.from({ length: parties }, () =>
      start({ job: 'barrier', barrier: barrier.handle, seen, generations }),
    );
    await Promise.all(workers.map((w) => message(w)));
    await Promise.all(workers.map(exited));
    assert.deepEqual([...new Int32Array(seen)], new Array<number>(parties * generations).fill(1));
    assert.equal(barrier.generation, generations);
    assert.equal(actions, 0, 'the action given on this thread ran nowhere: workers passed it');
  });

  it('breaks for everyone when a party times out, until reset', async () => {
    const barrier = new SharedBarrier(2);
    await assert.rejects(barrier.wait({ timeout: 20 }), TimeoutError);
    assert.equal(barrier.broken, true);
    await assert.rejects(barrier.wait(), BrokenBarrierError);
    barrier.reset();
    const [a, b] = await Promise.all([barrier.wait(), barrier.wait()]);
    assert.deepEqual([a, b].sort(), [0, 1]);
  });
});

describe('SharedSemaphore', () => {
  it('admits at most its permits across four workers', async () => {
    const sem = new SharedSemaphore(2, { name: 'two at a time' });
    const counter = new SharedArrayBuffer(8);
    const workers = Array.from({ length: 4 }, () =>
      start({ job: 'semaphore', semaphore: sem.handle, counter, rounds: 5_000 }),
    );
    await Promise.all(workers.map((w) => message(w)));
    await Promise.all(workers.map(exited));
    const [now, most] = new Int32Array(counter);
    assert.equal(now, 0);
    assert.ok(most! >= 1 && most! <= 2, `at most two holders at once, saw ${most}`);
    assert.equal(sem.value, 2, 'every permit came back');
  });

  it('waits asynchronously, times out, and refuses over-release when bounded', async () => {
    const sem = new SharedSemaphore(1, { bounded: true });
    const permit = await sem.acquire();
    await assert.rejects(sem.acquire({ timeout: 20 }), TimeoutError);
    assert.equal(sem.tryAcquire(), undefined);
    const waiting = sem.acquire();
    permit.release();
    const next = await waiting;
    next.release();
    assert.equal(sem.value, 1);
    assert.throws(() => sem.release(), LockMisuseError, 'beyond the one initial permit');
  });
});

describe('SharedCondition', () => {
  it('hands items from the main thread to a consuming worker without losing a notify', async () => {
    const lock = new SharedMutex({ name: 'queue lock' });
    const ready = new SharedCondition(lock, { name: 'items ready' });
    const counter = new SharedArrayBuffer(8);
    const items = new Int32Array(counter);
    const rounds = 200;
    const w = start({
      job: 'consume',
      lock: lock.handle,
      condition: ready.handle,
      counter,
      rounds,
    });
    for (let i = 0; i < rounds; i++) {
      using guard = await lock.acquire();
      void guard;
      items[0]!++;
      ready.notify();
    }
    await message(w);
    await exited(w);
    assert.deepEqual([...items], [0, rounds]);
  });

  it('refuses a wait without the mutex, and holds the mutex again after a timeout', async () => {
    const lock = new SharedMutex();
    const cond = new SharedCondition(lock);
    await assert.rejects(cond.wait(), LockMisuseError);
    assert.throws(() => cond.notify(), LockMisuseError);
    const guard = await lock.acquire();
    await assert.rejects(cond.wait({ timeout: 20 }), TimeoutError);
    assert.equal(lock.heldHere, true);
    guard.release();
    assert.equal(lock.isLocked, false);
  });
});
