// lockscope/async-mutex against async-mutex itself: withTimeout and tryAcquire, under real timers
// and under @sinonjs/fake-timers (which a program's test suite installs), each test run against
// every implementation in IMPLS; then what the probe records of them, under fake timers too.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { install } from '@sinonjs/fake-timers';
import { IMPLS, sameInterleaving, settle, sleepReal, track } from './async-mutex-impls.js';

type InstalledClock = ReturnType<typeof install>;

/** Runs `body` with fake timers installed as a test suite installs them, and removes them. */
async function withFakeTimers(body: (clock: InstalledClock) => Promise<void>): Promise<void> {
  const clock = install({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  try {
    await body(clock);
  } finally {
    clock.uninstall();
  }
}

for (const api of IMPLS) {
  const { Mutex, Semaphore, withTimeout, tryAcquire, E_TIMEOUT, E_ALREADY_LOCKED, E_CANCELED } =
    api;

  describe(`withTimeout: ${api.name}`, () => {
    test('an acquisition that comes in time resolves as the lock’s own would', async () => {
      const m = withTimeout(new Mutex(), 1000);
      const release = await m.acquire();
      assert.equal(m.isLocked(), true);
      release();
      assert.equal(m.isLocked(), false);
      const s = withTimeout(new Semaphore(3), 1000);
      const [value, r] = await s.acquire(2);
      assert.equal(value, 3);
      assert.equal(s.getValue(), 1);
      r();
      assert.equal(s.getValue(), 3);
    });

    test('one that does not rejects with E_TIMEOUT, and leaves the lock untaken', async () => {
      assert.equal(E_TIMEOUT.message, 'timeout while waiting for mutex to become available');
      const mutex = new Mutex();
      const release = await mutex.acquire();
      const late = track(withTimeout(mutex, 10).acquire());
      await sleepReal(40);
      assert.equal(late.state(), `rejected: ${E_TIMEOUT.message}`);
      release();
      await settle();
      assert.equal(mutex.isLocked(), false, 'the acquisition granted after its timeout was undone');
      const custom = new Error('too slow');
      await mutex.acquire();
      await assert.rejects(withTimeout(mutex, 5, custom).acquire(), (e) => e === custom);
    });

    test('a timed-out acquisition keeps its place, as in async-mutex', async () => {
      const s = new Semaphore(2);
      const [, r] = await s.acquire(2);
      await assert.rejects(withTimeout(s, 5).acquire(2), (e) => e === E_TIMEOUT);
      const light = track(s.acquire(1));
      s.release(1);
      await settle();
      assert.equal(light.state(), 'pending', 'still behind the weight-2 request that gave up');
      r();
      await settle();
      assert.equal(light.state(), 'resolved');
      assert.equal(s.getValue(), 2, 'the weight-2 grant was given back at once');
    });

    test('weights, priorities and the other methods pass through', async () => {
      const s = withTimeout(new Semaphore(1), 1000);
      assert.throws(() => s.acquire(0), { message: 'invalid weight 0: must be positive' });
      assert.throws(() => s.waitForUnlock(-1), { message: 'invalid weight -1: must be positive' });
      s.setValue(2);
      assert.equal(s.getValue(), 2);
      assert.equal(await s.runExclusive((v) => v + 1, 2), 3);
      s.release(1);
      assert.equal(s.getValue(), 3);
      const m = withTimeout(new Mutex(), 1000);
      assert.equal(
        await m.runExclusive((...args: unknown[]) => args.length, 5),
        0,
        'a mutex’s callback gets no value',
      );
      assert.throws(() => (m as unknown as { getValue(): number }).getValue(), TypeError);
      const held = await m.acquire();
      const order: string[] = [];
      const low = m.acquire(0).then((r) => (order.push('low'), r()));
      const high = m.acquire(2).then((r) => (order.push('high'), r()));
      held();
      await Promise.all([low, high]);
      assert.deepEqual(order, ['high', 'low']);
    });

    test('cancel rejects with E_CANCELED before the timeout', async () => {
      const m = withTimeout(new Mutex(), 1000);
      const release = await m.acquire();
      const pending = m.acquire();
      m.cancel();
      await assert.rejects(pending, (e) => e === E_CANCELED);
      release();
      assert.equal(m.isLocked(), false);
    });

    test('waitForUnlock rejects with the timeout error, or resolves in time', async () => {
      const mutex = new Mutex();
      const release = await mutex.acquire();
      await assert.rejects(withTimeout(mutex, 5).waitForUnlock(), (e) => e === E_TIMEOUT);
      const s = new Semaphore(1);
      const [, r] = await s.acquire();
      const w = withTimeout(s, 1000).waitForUnlock(1);
      r();
      await w;
      release();
    });

    test('under fake timers it times out only when the clock is ticked', async () => {
      await withFakeTimers(async (clock) => {
        const m = new Mutex();
        const release = await m.acquire();
        const late = track(withTimeout(m, 100).acquire());
        await sleepReal(20);
        assert.equal(late.state(), 'pending', 'real time passing does not time it out');
        clock.tick(99);
        await settle();
        assert.equal(late.state(), 'pending');
        clock.tick(1);
        await settle();
        assert.equal(late.state(), `rejected: ${E_TIMEOUT.message}`);
        const inTime = track(withTimeout(m, 100).acquire());
        release();
        await settle();
        assert.equal(inTime.state(), 'resolved');
        assert.equal(clock.countTimers(), 0, 'its timer was cleared');
        inTime.value()!();
        assert.equal(m.isLocked(), false);
      });
    });
  });

  describe(`tryAcquire: ${api.name}`, () => {
    test('a free lock is taken', async () => {
      const m = new Mutex();
      const release = await tryAcquire(m).acquire();
      assert.equal(m.isLocked(), true);
      release();
      const s = new Semaphore(2);
      const [value] = await tryAcquire(s).acquire(2);
      assert.equal(value, 2);
      assert.equal(s.getValue(), 0);
    });

    test('a taken one rejects with E_ALREADY_LOCKED, from a timer, and stays free of it', async () => {
      assert.equal(E_ALREADY_LOCKED.message, 'mutex already locked');
      const m = new Mutex();
      const release = await m.acquire();
      const attempt = track(tryAcquire(m).acquire());
      await Promise.resolve();
      assert.equal(attempt.state(), 'pending', 'not in the same turn');
      await sleepReal(5);
      assert.equal(attempt.state(), `rejected: ${E_ALREADY_LOCKED.message}`);
      const custom = new Error('busy');
      await assert.rejects(tryAcquire(m, custom).acquire(), (e) => e === custom);
      release();
      await settle();
      assert.equal(m.isLocked(), false);
    });

    test('under fake timers it rejects when the clock moves', async () => {
      await withFakeTimers(async (clock) => {
        const m = new Mutex();
        await m.acquire();
        const attempt = track(tryAcquire(m).acquire());
        await sleepReal(10);
        assert.equal(attempt.state(), 'pending');
        clock.tick(0);
        await settle();
        assert.equal(attempt.state(), `rejected: ${E_ALREADY_LOCKED.message}`);
      });
    });
  });
}

describe('withTimeout and tryAcquire settle at the same turns as async-mutex', () => {
  test('under fake timers', async () => {
    await withFakeTimers(async (clock) => {
      await sameInterleaving(async ({ Mutex, Semaphore, withTimeout, tryAcquire }, log) => {
        const m = new Mutex();
        const held = await m.acquire();
        const t = withTimeout(m, 10)
          .acquire()
          .then(
            () => log.push('t granted'),
            () => log.push('t timed out'),
          );
        const a = tryAcquire(m)
          .acquire()
          .catch(() => log.push('try failed'));
        const w = withTimeout(m, 50)
          .waitForUnlock()
          .then(() => log.push('unlocked'));
        clock.tick(10);
        await Promise.all([t, a]);
        held();
        log.push(`locked ${m.isLocked()}`);
        await w;
        log.push(`locked ${m.isLocked()}`);
        const s = new Semaphore(1);
        const [, r] = await tryAcquire(s).acquire();
        const x = withTimeout(s, 5)
          .runExclusive((v) => log.push(`x ${v}`))
          .catch(() => log.push('x timed out'));
        r();
        await x;
      });
    });
  });
});
