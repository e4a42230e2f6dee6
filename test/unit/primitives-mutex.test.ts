// Semantics of Mutex and ReentrantMutex: FIFO hand-off, tryAcquire, timeouts, abort, guards and
// `using`, runExclusive, and re-entry by task identity.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  configure,
  DeadlockError,
  LockMisuseError,
  LockscopeError,
  Mutex,
  ReentrantMutex,
  TimeoutError,
  sleep,
  spawn,
  type Guard,
} from '../../runtime-probe/src/index.js';
import { flush, rejectsAbort, rejectsTimeout, watch, withFailFast } from './helpers.js';

describe('Mutex', () => {
  test('acquire locks a free mutex and release unlocks it', async () => {
    const m = new Mutex({ name: 'm' });
    assert.equal(m.name, 'm');
    assert.equal(m.isLocked, false);
    const g = await m.acquire();
    assert.equal(m.isLocked, true);
    assert.equal(g.held, true);
    g.release();
    assert.equal(g.held, false);
    assert.equal(m.isLocked, false);
  });

  test('waiters are granted in FIFO order', async () => {
    const m = new Mutex();
    const first = await m.acquire();
    const order: string[] = [];
    const runs = ['a', 'b', 'c', 'd'].map(async (name) => {
      const g = await m.acquire();
      order.push(name);
      await flush();
      g.release();
    });
    assert.equal(m.waiting, 4);
    first.release();
    await Promise.all(runs);
    assert.deepEqual(order, ['a', 'b', 'c', 'd']);
    assert.equal(m.isLocked, false);
    assert.equal(m.waiting, 0);
  });

  test('FIFO order skips a waiter that gave up', async () => {
    const m = new Mutex();
    const first = await m.acquire();
    const order: string[] = [];
    const ac = new AbortController();
    const a = m.acquire().then((g) => {
      order.push('a');
      g.release();
    });
    const b = m.acquire({ signal: ac.signal }).then((g) => {
      order.push('b');
      g.release();
    });
    const c = m.acquire().then((g) => {
      order.push('c');
      g.release();
    });
    ac.abort('changed my mind');
    await rejectsAbort(b, 'changed my mind');
    assert.equal(m.waiting, 2);
    first.release();
    await Promise.all([a, c]);
    assert.deepEqual(order, ['a', 'c']);
  });

  test('release hands the mutex straight to the next waiter (no barging)', async () => {
    const m = new Mutex();
    const held = await m.acquire();
    const next = watch(m.acquire());
    held.release();
    // The waiter owns the mutex now, before it has even resumed.
    assert.equal(m.isLocked, true);
    assert.equal(m.tryAcquire(), undefined);
    const g = await next.promise;
    assert.equal(g.held, true);
    g.release();
    assert.equal(m.isLocked, false);
  });

  test('tryAcquire succeeds only when the mutex is free', async () => {
    const m = new Mutex();
    const g = m.tryAcquire();
    assert.ok(g, 'a free mutex is acquired at once');
    assert.equal(m.isLocked, true);
    assert.equal(m.tryAcquire(), undefined);
    g.release();
    const again = m.tryAcquire();
    assert.ok(again);
    again.release();
    assert.equal(m.isLocked, false);
    // An acquire afterwards still works.
    (await m.acquire()).release();
  });

  test('acquire with a timeout rejects TimeoutError and leaves no waiter behind', async () => {
    const m = new Mutex();
    const held = await m.acquire();
    await rejectsTimeout(m.acquire({ timeout: 20 }), 20);
    assert.equal(m.waiting, 0);
    held.release();
    // The timed-out waiter must not have been granted the mutex.
    assert.equal(m.isLocked, false);
  });

  test('a timeout on a free mutex does not fire', async () => {
    const m = new Mutex();
    const g = await m.acquire({ timeout: 20 });
    assert.equal(m.isLocked, true);
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.equal(g.held, true);
    g.release();
  });

  test('timeout: 0 rejects at once when held and succeeds when free', async () => {
    const m = new Mutex();
    const g = await m.acquire({ timeout: 0 });
    assert.equal(m.isLocked, true);
    const p = m.acquire({ timeout: 0 });
    // It never queues.
    assert.equal(m.waiting, 0);
    await rejectsTimeout(p, 0);
    g.release();
    assert.equal(m.isLocked, false);
  });

  test('aborting a pending acquire rejects AbortError with the reason as cause', async () => {
    const m = new Mutex();
    const held = await m.acquire();
    const ac = new AbortController();
    const reason = new Error('stop');
    const p = m.acquire({ signal: ac.signal });
    assert.equal(m.waiting, 1);
    ac.abort(reason);
    await rejectsAbort(p, reason);
    assert.equal(m.waiting, 0);
    held.release();
    assert.equal(m.isLocked, false);
  });

  test('abort without a reason gives the signal default reason as cause', async () => {
    const m = new Mutex();
    const held = await m.acquire();
    const ac = new AbortController();
    const p = m.acquire({ signal: ac.signal });
    ac.abort();
    assert.ok(ac.signal.reason !== undefined);
    await rejectsAbort(p, ac.signal.reason);
    held.release();
  });

  test('an already-aborted signal rejects even when the mutex is free', async () => {
    const m = new Mutex();
    const reason = { why: 'already' };
    await rejectsAbort(m.acquire({ signal: AbortSignal.abort(reason) }), reason);
    assert.equal(m.isLocked, false);
  });

  test('a signal that aborts after the grant changes nothing', async () => {
    const m = new Mutex();
    const ac = new AbortController();
    const g = await m.acquire({ signal: ac.signal });
    ac.abort();
    assert.equal(g.held, true);
    assert.equal(m.isLocked, true);
    g.release();
  });

  test('invalid options throw TypeError at the call', () => {
    const m = new Mutex();
    assert.throws(() => void m.acquire({ timeout: -1 }), TypeError);
    assert.throws(() => void m.acquire({ timeout: Number.NaN }), TypeError);
    assert.equal(m.isLocked, false);
  });

  test('`using` releases the guard at the end of the scope', async () => {
    const m = new Mutex();
    {
      using g = await m.acquire();
      assert.equal(g.held, true);
      assert.equal(m.isLocked, true);
    }
    assert.equal(m.isLocked, false);
  });

  test('`using` releases when the scope throws', async () => {
    const m = new Mutex();
    const body = async (): Promise<void> => {
      using _g = await m.acquire();
      assert.equal(m.isLocked, true);
      throw new Error('inside');
    };
    await assert.rejects(body(), /inside/);
    assert.equal(m.isLocked, false);
  });

  test('an explicit release inside a `using` scope, then disposal, is fine', async () => {
    const m = new Mutex();
    let other: Guard | undefined;
    {
      using g = await m.acquire();
      g.release();
      assert.equal(g.held, false);
      assert.equal(m.isLocked, false);
      // Someone else takes the mutex before the scope ends; disposal must not release theirs.
      other = m.tryAcquire();
      assert.ok(other);
    }
    assert.equal(m.isLocked, true, 'disposing a released guard must not release the mutex');
    assert.equal(other.held, true);
    other.release();
    assert.equal(m.isLocked, false);
  });

  test('release() twice throws LockMisuseError and leaves the next holder alone', async () => {
    const m = new Mutex();
    const g = await m.acquire();
    g.release();
    const other = await m.acquire();
    assert.throws(
      () => g.release(),
      (err: unknown) => {
        assert.ok(err instanceof LockMisuseError);
        assert.ok(err instanceof LockscopeError);
        assert.equal(err.name, 'LockMisuseError');
        return true;
      },
    );
    assert.equal(other.held, true);
    assert.equal(m.isLocked, true);
    other.release();
    assert.equal(m.isLocked, false);
  });

  test('runExclusive returns the value and releases', async () => {
    const m = new Mutex();
    const v = await m.runExclusive(() => {
      assert.equal(m.isLocked, true);
      return 42;
    });
    assert.equal(v, 42);
    assert.equal(m.isLocked, false);
  });

  test('runExclusive releases when fn throws or rejects', async () => {
    const m = new Mutex();
    const boom = new Error('boom');
    await assert.rejects(
      m.runExclusive(() => {
        throw boom;
      }),
      (err: unknown) => err === boom,
    );
    assert.equal(m.isLocked, false);
    await assert.rejects(
      m.runExclusive(async () => {
        await flush();
        throw boom;
      }),
      (err: unknown) => err === boom,
    );
    assert.equal(m.isLocked, false);
  });

  test('runExclusive sections never overlap and run in call order', async () => {
    const m = new Mutex();
    let inside = 0;
    let maxInside = 0;
    const order: number[] = [];
    await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        m.runExclusive(async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          order.push(i);
          await flush();
          inside--;
        }),
      ),
    );
    assert.equal(maxInside, 1);
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
  });

  test('runExclusive passes its options to acquire', async () => {
    const m = new Mutex();
    const held = await m.acquire();
    let ran = false;
    await rejectsTimeout(
      m.runExclusive(
        () => {
          ran = true;
        },
        { timeout: 0 },
      ),
      0,
    );
    assert.equal(ran, false);
    held.release();
  });
});

describe('ReentrantMutex', () => {
  test('the same task re-enters, and the mutex is free only after every guard', async () => {
    const rm = new ReentrantMutex();
    const depths = await spawn('owner', async () => {
      const seen: number[] = [];
      const outer = await rm.acquire();
      seen.push(rm.depth);
      const inner = await rm.acquire();
      seen.push(rm.depth);
      const third = rm.tryAcquire();
      assert.ok(third, 'the owner re-enters through tryAcquire too');
      seen.push(rm.depth);
      third.release();
      seen.push(rm.depth);
      inner.release();
      seen.push(rm.depth);
      assert.equal(rm.isLocked, true);
      outer.release();
      seen.push(rm.depth);
      return seen;
    }).join();
    assert.deepEqual(depths, [1, 2, 3, 2, 1, 0]);
    assert.equal(rm.isLocked, false);
  });

  test('the test body itself re-enters with sequential awaits', async () => {
    const rm = new ReentrantMutex();
    {
      using _a = await rm.acquire();
      using _b = await rm.acquire({ timeout: 20 });
      assert.equal(rm.depth, 2);
    }
    assert.equal(rm.depth, 0);
    assert.equal(rm.isLocked, false);
  });

  test('a different spawned task blocks until the owner releases every guard', async () => {
    const rm = new ReentrantMutex();
    const guards: Guard[] = await spawn('a', async () => {
      const g1 = await rm.acquire();
      const g2 = await rm.acquire();
      return [g1, g2];
    }).join();
    assert.equal(rm.depth, 2);

    const probe = await spawn('b-try', () => rm.tryAcquire()).join();
    assert.equal(probe, undefined, 'another task cannot tryAcquire');
    await assert.rejects(
      spawn('b-timeout', () => rm.acquire({ timeout: 20 })).join(),
      TimeoutError,
    );

    let got = false;
    const b = spawn('b', async () => {
      const g = await rm.acquire();
      got = true;
      const depth = rm.depth;
      g.release();
      return depth;
    });
    await flush();
    assert.equal(got, false);
    guards[1]!.release();
    await flush();
    assert.equal(got, false, 'still held at depth 1');
    guards[0]!.release();
    assert.equal(await b.join(), 1);
    assert.equal(got, true);
    assert.equal(rm.isLocked, false);
  });

  test('other tasks are granted in FIFO order', async () => {
    const rm = new ReentrantMutex();
    const held = await rm.acquire();
    const order: string[] = [];
    const tasks = ['x', 'y', 'z'].map((name) =>
      spawn(name, async () => {
        const g = await rm.acquire();
        order.push(name);
        await flush();
        g.release();
      }),
    );
    await flush();
    assert.deepEqual(order, []);
    held.release();
    await Promise.all(tasks.map((t) => t.join()));
    assert.deepEqual(order, ['x', 'y', 'z']);
  });

  test('timeout: 0, timeout and abort for another task', async () => {
    const rm = new ReentrantMutex();
    const held = await rm.acquire();
    await rejectsTimeout(spawn('t0', () => rm.acquire({ timeout: 0 })).join(), 0);
    await rejectsTimeout(spawn('t20', () => rm.acquire({ timeout: 20 })).join(), 20);
    const ac = new AbortController();
    const reason = new Error('abort');
    const t = spawn('ab', () => rm.acquire({ signal: ac.signal }));
    await flush();
    ac.abort(reason);
    await rejectsAbort(t.join(), reason);
    held.release();
    assert.equal(rm.isLocked, false, 'no waiter that gave up was granted the mutex');
  });

  test('an already-aborted signal rejects even when the mutex is free', async () => {
    const rm = new ReentrantMutex();
    const reason = 'pre-aborted';
    await rejectsAbort(rm.acquire({ signal: AbortSignal.abort(reason) }), reason);
    assert.equal(rm.isLocked, false);
  });

  test('runExclusive releases on throw; release() twice throws LockMisuseError', async () => {
    const rm = new ReentrantMutex();
    await assert.rejects(
      rm.runExclusive(() => {
        throw new Error('x');
      }),
      /x/,
    );
    assert.equal(rm.isLocked, false);
    const g = await rm.acquire();
    g.release();
    assert.throws(() => g.release(), LockMisuseError);
    assert.equal(rm.depth, 0);
  });
});

interface Lockable {
  acquire(): Promise<Disposable>;
}

/**
 * Two tasks taking `a` and `b` in opposite orders: `first` takes a (twice when `reenter`), then
 * b; `second` takes b, then a, after `first` already waits. `second` closes the cycle.
 */
function oppositeOrders(a: Lockable, b: Lockable, reenter = false) {
  const first = spawn('first', async () => {
    using _a = await a.acquire();
    // Re-entry is not a cycle.
    using _again = reenter ? await a.acquire() : undefined;
    await sleep(5);
    using _b = await b.acquire();
    return 'done';
  });
  const second = spawn('second', async () => {
    using _b = await b.acquire();
    await sleep(10);
    using _a = await a.acquire();
    return 'done';
  });
  return { first, second };
}

describe('fail-fast deadlock detection', () => {
  test('the acquisition that would close a cycle rejects with a DeadlockError', () =>
    withFailFast(async () => {
      const { first, second } = oppositeOrders(new Mutex({ name: 'a' }), new Mutex({ name: 'b' }));
      await assert.rejects(second.join(), (err: unknown) => {
        assert.ok(err instanceof DeadlockError);
        assert.match(
          err.message,
          /^second cannot wait for a without deadlocking: a is held by first, which waits for b, b is held by second itself/,
        );
        return true;
      });
      // The victim let go of b as its `using` block ended, so the other task finishes.
      assert.equal(await first.join(), 'done');
    }));

  test('a cycle through a re-entrant mutex is refused the same way', () =>
    withFailFast(async () => {
      const ra = new ReentrantMutex({ name: 'ra' });
      const { first, second } = oppositeOrders(ra, new Mutex({ name: 'rb' }), true);
      await assert.rejects(second.join(), (err: unknown) => {
        assert.ok(err instanceof DeadlockError);
        assert.match(err.message, /^second cannot wait for ra without deadlocking/);
        return true;
      });
      assert.equal(await first.join(), 'done');
    }));

  test('waits that form no cycle are untouched, and the mode is off by default', async () => {
    const m = new Mutex({ name: 'm' });
    const g = await m.acquire();
    const waiter = spawn('w', async () => (await m.acquire()).release());
    await flush();
    g.release();
    await waiter.join();
    assert.throws(() => configure({ failFast: 'yes' as unknown as boolean }), /failFast must be/);
  });
});
