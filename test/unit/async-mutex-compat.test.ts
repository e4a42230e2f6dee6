// lockscope/async-mutex against async-mutex itself: Mutex and Semaphore, written from async-mutex's
// README and API reference, each test run against every implementation in IMPLS.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IMPLS, sameInterleaving, settle, track } from './async-mutex-impls.js';

for (const api of IMPLS) {
  const { Mutex, Semaphore, E_CANCELED } = api;

  describe(`Mutex: ${api.name}`, () => {
    test('acquire resolves to a release function; isLocked follows it', async () => {
      const m = new Mutex();
      assert.equal(m.isLocked(), false);
      const release = await m.acquire();
      assert.equal(typeof release, 'function');
      assert.equal(m.isLocked(), true);
      release();
      assert.equal(m.isLocked(), false);
    });

    test('waiters are served in the order they asked', async () => {
      const m = new Mutex();
      const order: number[] = [];
      const release = await m.acquire();
      const all = [1, 2, 3].map((i) =>
        m.acquire().then((r) => {
          order.push(i);
          r();
        }),
      );
      await settle();
      assert.deepEqual(order, []);
      release();
      await Promise.all(all);
      assert.deepEqual(order, [1, 2, 3]);
    });

    test('a release function called twice frees the mutex once', async () => {
      const m = new Mutex();
      const first = await m.acquire();
      const second = track(m.acquire());
      first();
      await settle();
      assert.equal(second.state(), 'resolved');
      first();
      assert.equal(m.isLocked(), true, 'the second holder keeps it');
      const third = track(m.acquire());
      await settle();
      assert.equal(third.state(), 'pending');
      second.value()!();
      await settle();
      assert.equal(third.state(), 'resolved');
    });

    test('higher priorities first, first come first served within one', async () => {
      const m = new Mutex();
      const release = await m.acquire();
      const order: string[] = [];
      const ask = (name: string, priority?: number): Promise<void> =>
        m.acquire(priority).then((r) => {
          order.push(name);
          r();
        });
      const all = [ask('p0'), ask('p2a', 2), ask('p1', 1), ask('p2b', 2), ask('n', -1)];
      release();
      await Promise.all(all);
      assert.deepEqual(order, ['p2a', 'p2b', 'p1', 'p0', 'n']);
    });

    test('runExclusive: the result, no arguments, and a release however it ends', async () => {
      const m = new Mutex();
      assert.equal(
        await m.runExclusive(function (...args: unknown[]) {
          assert.equal(args.length, 0);
          assert.equal(m.isLocked(), true);
          return 7;
        }),
        7,
      );
      assert.equal(m.isLocked(), false);
      assert.equal(await m.runExclusive(async () => Promise.resolve('async')), 'async');
      await assert.rejects(
        m.runExclusive(() => {
          throw new Error('sync throw');
        }),
        /sync throw/,
      );
      assert.equal(m.isLocked(), false);
      await assert.rejects(
        m.runExclusive(async () => Promise.reject(new Error('async throw'))),
        /async throw/,
      );
      assert.equal(m.isLocked(), false);
    });

    test('release() frees the mutex whoever holds it, and does nothing on a free one', async () => {
      const m = new Mutex();
      m.release();
      assert.equal(m.isLocked(), false);
      await m.acquire();
      const next = track(m.acquire());
      m.release();
      await settle();
      assert.equal(next.state(), 'resolved');
      assert.equal(m.isLocked(), true);
      m.release();
      assert.equal(m.isLocked(), false);
      m.release();
      await m.acquire();
      assert.equal(m.isLocked(), true, 'one release of a free mutex left nothing extra');
      const waiting = track(m.acquire());
      await settle();
      assert.equal(waiting.state(), 'pending');
    });

    test('cancel rejects every pending acquisition with E_CANCELED; the holder keeps it', async () => {
      const m = new Mutex();
      const release = await m.acquire();
      const a = m.acquire();
      const b = m.runExclusive(() => 'never');
      m.cancel();
      await assert.rejects(a, (e) => e === E_CANCELED);
      await assert.rejects(b, (e) => e === E_CANCELED);
      assert.equal(m.isLocked(), true);
      release();
      assert.equal(m.isLocked(), false);
      assert.equal(E_CANCELED.message, 'request for lock canceled');
    });

    test('cancel with the error given to the constructor', async () => {
      const custom = new Error('custom');
      const m = new Mutex(custom);
      await m.acquire();
      const a = m.acquire();
      m.cancel();
      await assert.rejects(a, (e) => e === custom);
    });

    test('waitForUnlock resolves when the mutex could be taken, without taking it', async () => {
      const m = new Mutex();
      await m.waitForUnlock();
      assert.equal(m.isLocked(), false);
      const release = await m.acquire();
      const w = track(m.waitForUnlock());
      await settle();
      assert.equal(w.state(), 'pending');
      release();
      await settle();
      assert.equal(w.state(), 'resolved');
      assert.equal(m.isLocked(), false);
    });

    test('waitForUnlock with a priority: only waiters of a lower one let it through', async () => {
      const m = new Mutex();
      const release = await m.acquire();
      const queued = track(m.acquire(0));
      const high = track(m.waitForUnlock(1));
      const same = track(m.waitForUnlock(0));
      release();
      await settle();
      assert.equal(queued.state(), 'resolved');
      assert.equal(high.state(), 'resolved', 'the priority-0 waiter comes after it');
      assert.equal(same.state(), 'pending', 'it waits behind the priority-0 waiter');
      queued.value()!();
      await settle();
      assert.equal(same.state(), 'resolved');
    });

    test('settles at the same microtask turns as async-mutex', async () => {
      await sameInterleaving(async ({ Mutex }, log) => {
        const m = new Mutex();
        const r1 = m.acquire().then((r) => (log.push('a1'), r));
        const r2 = m.acquire(1).then((r) => (log.push('a2'), r));
        const w = m.waitForUnlock().then(() => log.push('unlocked'));
        const run = m.runExclusive(() => log.push('run')).then(() => log.push('ran'));
        (await r1)();
        log.push('released 1');
        (await r2)();
        log.push('released 2');
        await Promise.all([w, run]);
        const held = await m.acquire();
        const cancelled = m.acquire().catch(() => log.push('cancelled'));
        m.cancel();
        held();
        await cancelled;
      });
    });
  });

  describe(`Semaphore: ${api.name}`, () => {
    test('acquire resolves to the value before and a releaser; locked at zero or less', async () => {
      const s = new Semaphore(2);
      const [v1, r1] = await s.acquire();
      assert.equal(v1, 2);
      assert.equal(s.getValue(), 1);
      assert.equal(s.isLocked(), false);
      const [v2, r2] = await s.acquire();
      assert.equal(v2, 1);
      assert.equal(s.isLocked(), true);
      r1();
      r1();
      assert.equal(s.getValue(), 1, 'a releaser gives back once');
      r2();
      assert.equal(s.getValue(), 2);
    });

    test('weights: taken and given back whole', async () => {
      const s = new Semaphore(3);
      const [, big] = await s.acquire(2);
      assert.equal(s.getValue(), 1);
      const next = track(s.acquire(2));
      await settle();
      assert.equal(next.state(), 'pending');
      big();
      await settle();
      assert.equal(next.state(), 'resolved');
      assert.equal(next.value()![0], 3);
      assert.equal(s.getValue(), 1);
    });

    test('a waiter whose weight does not fit blocks those behind it', async () => {
      const s = new Semaphore(2);
      const [, r] = await s.acquire(2);
      const heavy = track(s.acquire(2));
      const light = track(s.acquire(1));
      s.release(1);
      await settle();
      assert.equal(heavy.state(), 'pending');
      assert.equal(light.state(), 'pending', 'the same priority waits behind the head');
      const higher = track(s.acquire(1, 1));
      await settle();
      assert.equal(higher.state(), 'resolved', 'a higher priority goes past');
      higher.value()![1]();
      r();
      await settle();
      assert.equal(heavy.state(), 'resolved', 'three now: the head first');
      assert.equal(light.state(), 'resolved', 'then the one left fits');
      assert.equal(s.getValue(), 0);
    });

    test('a weight that is not positive throws at the call, and runExclusive rejects', async () => {
      const s = new Semaphore(1);
      assert.throws(() => s.acquire(0), { message: 'invalid weight 0: must be positive' });
      assert.throws(() => s.acquire(-2), { message: 'invalid weight -2: must be positive' });
      assert.throws(() => s.waitForUnlock(0), { message: 'invalid weight 0: must be positive' });
      assert.throws(() => s.release(0), { message: 'invalid weight 0: must be positive' });
      await assert.rejects(
        s.runExclusive(() => 1, 0),
        /invalid weight 0/,
      );
      assert.equal(s.getValue(), 1);
    });

    test('setValue grants the waiters the new value lets through', async () => {
      const s = new Semaphore(0);
      const a = track(s.acquire());
      const b = track(s.acquire(2));
      s.setValue(1);
      await settle();
      assert.equal(a.state(), 'resolved');
      assert.equal(a.value()![0], 1);
      assert.equal(b.state(), 'pending');
      s.setValue(5);
      await settle();
      assert.equal(b.state(), 'resolved');
      assert.equal(s.getValue(), 3);
    });

    test('release without a releaser adds any weight, past the initial value', async () => {
      const s = new Semaphore(1);
      s.release(3);
      assert.equal(s.getValue(), 4);
      const n = new Semaphore(-1);
      assert.equal(n.isLocked(), true);
      const w = track(n.acquire());
      n.release();
      await settle();
      assert.equal(w.state(), 'pending', 'zero is still locked');
      n.release();
      await settle();
      assert.equal(w.state(), 'resolved');
    });

    test('runExclusive passes the value and gives the weight back however it ends', async () => {
      const s = new Semaphore(4);
      assert.equal(await s.runExclusive((v) => v * 10, 3), 40);
      assert.equal(s.getValue(), 4);
      await assert.rejects(
        s.runExclusive(() => {
          throw new Error('inside');
        }, 2),
        /inside/,
      );
      assert.equal(s.getValue(), 4);
    });

    test('waitForUnlock resolves once its weight fits, and takes nothing', async () => {
      const s = new Semaphore(2);
      const [, r] = await s.acquire(2);
      const two = track(s.waitForUnlock(2));
      const one = track(s.waitForUnlock(1));
      s.release(1);
      await settle();
      assert.equal(one.state(), 'resolved');
      assert.equal(two.state(), 'pending');
      s.release(1);
      await settle();
      assert.equal(two.state(), 'resolved');
      assert.equal(s.getValue(), 2);
      r();
      assert.equal(s.getValue(), 4);
    });

    test('cancel rejects queued acquisitions, not waitForUnlock', async () => {
      const custom = new Error('gone');
      const s = new Semaphore(1, custom);
      const [, r] = await s.acquire();
      const a = s.acquire();
      const w = track(s.waitForUnlock());
      s.cancel();
      await assert.rejects(a, (e) => e === custom);
      assert.equal(w.state(), 'pending');
      r();
      await settle();
      assert.equal(w.state(), 'resolved');
      assert.equal(new Semaphore(1).isLocked(), false);
      assert.ok(E_CANCELED instanceof Error);
    });

    test('settles at the same microtask turns as async-mutex', async () => {
      await sameInterleaving(async ({ Semaphore }, log) => {
        const s = new Semaphore(2);
        const a = s.acquire(2).then((t) => (log.push(`a ${t[0]}`), t));
        const b = s.acquire(1, 0).then((t) => (log.push(`b ${t[0]}`), t));
        const c = s.acquire(1, 3).then((t) => (log.push(`c ${t[0]}`), t));
        const w = s.waitForUnlock(1, 2).then(() => log.push('w'));
        const x = s.runExclusive((v) => log.push(`x ${v}`), 2, 1).then(() => log.push('x done'));
        (await a)[1]();
        log.push('a released');
        (await c)[1]();
        log.push('c released');
        await x;
        (await b)[1]();
        await w;
        s.setValue(0);
        const d = s.acquire().then(() => log.push('d'));
        s.setValue(1);
        await d;
      });
    });
  });
}
