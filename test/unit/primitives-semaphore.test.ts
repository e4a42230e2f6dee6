// Semantics of Semaphore: permits, FIFO waiters, tryAcquire, bounded and unbounded release,
// guards and `using`, runExclusive, timeouts and abort.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LockMisuseError, LockscopeError, Semaphore } from '../../runtime-probe/src/index.js';
import { flush, rejectsAbort, rejectsTimeout, watch } from './helpers.js';

describe('Semaphore', () => {
  test('the constructor checks permits', () => {
    assert.throws(() => new Semaphore(-1), TypeError);
    assert.throws(() => new Semaphore(1.5), TypeError);
    const s = new Semaphore(3, { name: 'pool' });
    assert.equal(s.name, 'pool');
    assert.equal(s.value, 3);
    assert.equal(s.initial, 3);
    assert.equal(s.bounded, false);
  });

  test('acquire takes a permit and the guard gives it back', async () => {
    const s = new Semaphore(2);
    const a = await s.acquire();
    assert.equal(s.value, 1);
    const b = await s.acquire();
    assert.equal(s.value, 0);
    a.release();
    assert.equal(s.value, 1);
    b.release();
    assert.equal(s.value, 2);
  });

  test('waiters are granted in FIFO order', async () => {
    const s = new Semaphore(0);
    const order: string[] = [];
    const waits = ['a', 'b', 'c', 'd'].map((name) =>
      s.acquire().then((g) => {
        order.push(name);
        return g;
      }),
    );
    await flush();
    assert.deepEqual(order, []);
    s.release();
    await flush();
    assert.deepEqual(order, ['a']);
    s.release(2);
    await flush();
    assert.deepEqual(order, ['a', 'b', 'c']);
    s.release();
    const guards = await Promise.all(waits);
    assert.deepEqual(order, ['a', 'b', 'c', 'd']);
    assert.equal(s.value, 0);
    for (const g of guards) g.release();
    assert.equal(s.value, 4);
  });

  test('a released permit goes to the waiter, not to a later tryAcquire', async () => {
    const s = new Semaphore(1);
    const held = await s.acquire();
    const next = watch(s.acquire());
    held.release();
    assert.equal(s.value, 0);
    assert.equal(s.tryAcquire(), undefined);
    const g = await next.promise;
    g.release();
    assert.equal(s.value, 1);
  });

  test('tryAcquire takes a permit only if one is free', () => {
    const s = new Semaphore(1);
    const g = s.tryAcquire();
    assert.ok(g);
    assert.equal(s.value, 0);
    assert.equal(s.tryAcquire(), undefined);
    assert.equal(s.value, 0);
    g.release();
    assert.equal(s.value, 1);
  });

  test('a bounded semaphore throws LockMisuseError when released beyond its permits', async () => {
    const s = new Semaphore(1, { bounded: true });
    assert.equal(s.bounded, true);
    assert.throws(
      () => s.release(),
      (err: unknown) => {
        assert.ok(err instanceof LockMisuseError);
        assert.ok(err instanceof LockscopeError);
        return true;
      },
    );
    assert.equal(s.value, 1);
    const g = await s.acquire();
    assert.throws(() => s.release(2), LockMisuseError);
    assert.equal(s.value, 0);
    s.release();
    assert.equal(s.value, 1);
    assert.throws(() => s.release(), LockMisuseError);
    assert.equal(s.value, 1);
    // The guard's own release now over-releases too.
    assert.throws(() => g.release(), LockMisuseError);
    assert.equal(s.value, 1);
  });

  test('an unbounded release() adds permits without a guard', async () => {
    const s = new Semaphore(0);
    s.release();
    assert.equal(s.value, 1);
    s.release(3);
    assert.equal(s.value, 4);
    const g = await s.acquire();
    assert.equal(s.value, 3);
    g.release();
    assert.equal(s.value, 4);
    assert.throws(() => s.release(0), TypeError);
    assert.throws(() => s.release(1.5), TypeError);
    assert.equal(s.value, 4);
  });

  test('acquire with a timeout rejects TimeoutError and the permit goes to the next waiter', async () => {
    const s = new Semaphore(0);
    const a = s.acquire({ timeout: 20 });
    const b = watch(s.acquire());
    await rejectsTimeout(a, 20);
    assert.equal(b.settled(), false);
    s.release();
    const g = await b.promise;
    assert.equal(s.value, 0);
    g.release();
    assert.equal(s.value, 1);
  });

  test('timeout: 0 rejects when no permit is free and succeeds when one is', async () => {
    const s = new Semaphore(1);
    const g = await s.acquire({ timeout: 0 });
    await rejectsTimeout(s.acquire({ timeout: 0 }), 0);
    g.release();
    assert.equal(s.value, 1, 'the rejected call did not queue for the permit');
  });

  test('aborting a pending acquire rejects AbortError with the reason', async () => {
    const s = new Semaphore(0);
    const ac = new AbortController();
    const reason = new Error('cancel');
    const p = s.acquire({ signal: ac.signal });
    ac.abort(reason);
    await rejectsAbort(p, reason);
    s.release();
    assert.equal(s.value, 1, 'the aborted waiter did not take the permit');
  });

  test('an already-aborted signal rejects even when a permit is free', async () => {
    const s = new Semaphore(2);
    const reason = 'already';
    await rejectsAbort(s.acquire({ signal: AbortSignal.abort(reason) }), reason);
    assert.equal(s.value, 2);
  });

  test('`using` gives the permit back; release() twice throws LockMisuseError', async () => {
    const s = new Semaphore(1);
    {
      using _g = await s.acquire();
      assert.equal(s.value, 0);
    }
    assert.equal(s.value, 1);
    {
      using g = await s.acquire();
      g.release();
      assert.equal(s.value, 1);
      assert.throws(() => g.release(), LockMisuseError);
    }
    assert.equal(s.value, 1, 'disposal after release gave nothing back twice');
  });

  test('runExclusive admits at most `permits` at once and releases on throw', async () => {
    const s = new Semaphore(2);
    let inside = 0;
    let maxInside = 0;
    const results = await Promise.allSettled(
      [0, 1, 2, 3, 4, 5].map((i) =>
        s.runExclusive(async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await flush();
          inside--;
          if (i % 2 === 1) throw new Error(`odd ${i}`);
          return i;
        }),
      ),
    );
    assert.equal(maxInside, 2);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled', 'rejected'],
    );
    assert.equal(s.value, 2);
  });
});
