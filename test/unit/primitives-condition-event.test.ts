// Semantics of Condition (a monitor over a Mutex) and Event.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Condition,
  Event,
  LockMisuseError,
  LockscopeError,
  Mutex,
  TimeoutError,
  spawn,
} from '../../runtime-probe/src/index.js';
import { flush, rejectsAbort, rejectsTimeout, watch } from './helpers.js';

describe('Condition', () => {
  test('wait and notify without holding the mutex throw LockMisuseError', async () => {
    const m = new Mutex();
    const c = new Condition(m, { name: 'cond' });
    assert.equal(c.name, 'cond');
    assert.equal(c.mutex, m);
    await assert.rejects(c.wait(), (err: unknown) => {
      assert.ok(err instanceof LockMisuseError);
      assert.ok(err instanceof LockscopeError);
      return true;
    });
    assert.throws(() => c.notify(), LockMisuseError);
    assert.throws(() => c.notifyAll(), LockMisuseError);
    assert.equal(c.waiting, 0);
    assert.equal(m.isLocked, false);
  });

  test('wait releases the mutex, and resumes after notify with it held again', async () => {
    const m = new Mutex();
    const c = new Condition(m);
    let ready = false;
    const waiter = (async () => {
      using g = await m.acquire();
      let wakes = 0;
      while (!ready) {
        await c.wait();
        wakes++;
        assert.equal(m.isLocked, true, 'the mutex is held again after wait()');
      }
      return { wakes, held: g.held };
    })();
    await flush();
    assert.equal(c.waiting, 1);
    assert.equal(m.isLocked, false, 'wait() released the mutex');
    {
      using _g = await m.acquire();
      ready = true;
      c.notify();
      assert.equal(c.waiting, 0);
      await flush();
      // The woken waiter must wait for the mutex, which the notifier still holds.
      assert.equal(m.waiting, 1);
    }
    const result = await waiter;
    assert.deepEqual(result, { wakes: 1, held: true });
    assert.equal(m.isLocked, false);
  });

  test('notify wakes one waiter at a time in FIFO order; notify(n) wakes n', async () => {
    const m = new Mutex();
    const c = new Condition(m);
    const woken: string[] = [];
    const waiters = ['a', 'b', 'c', 'd'].map((name) =>
      spawn(name, async () => {
        using _g = await m.acquire();
        await c.wait();
        woken.push(name);
      }),
    );
    await flush();
    assert.equal(c.waiting, 4);
    const notify = async (n: number): Promise<void> => {
      {
        using _g = await m.acquire();
        c.notify(n);
      }
      await flush();
    };
    await notify(1);
    assert.deepEqual(woken, ['a']);
    await notify(2);
    assert.deepEqual(woken, ['a', 'b', 'c']);
    assert.equal(c.waiting, 1);
    await notify(1);
    await Promise.all(waiters.map((t) => t.join()));
    assert.deepEqual(woken, ['a', 'b', 'c', 'd']);
  });

  test('notifyAll wakes every waiter; notify with no waiters does nothing', async () => {
    const m = new Mutex();
    const c = new Condition(m);
    {
      using _g = await m.acquire();
      c.notify();
      c.notifyAll();
    }
    let woken = 0;
    const waiters = [1, 2, 3].map(async () => {
      using _g = await m.acquire();
      await c.wait();
      woken++;
    });
    await flush();
    assert.equal(c.waiting, 3);
    {
      using _g = await m.acquire();
      c.notifyAll();
      assert.equal(c.waiting, 0);
    }
    await Promise.all(waiters);
    assert.equal(woken, 3);
    // A notify that came before a wait is not remembered.
    const late = (async () => {
      using _g = await m.acquire();
      await c.wait({ timeout: 20 });
    })();
    await rejectsTimeout(late, 20);
  });

  test('wait with a timeout rejects TimeoutError with the mutex re-acquired', async () => {
    const m = new Mutex();
    const c = new Condition(m);
    const g = await m.acquire();
    await rejectsTimeout(c.wait({ timeout: 20 }), 20);
    assert.equal(m.isLocked, true);
    assert.equal(g.held, true);
    assert.equal(c.waiting, 0);
    g.release();
    assert.equal(m.isLocked, false);
  });

  test('a timed-out wait settles only once it has the mutex back', async () => {
    const m = new Mutex();
    const c = new Condition(m);
    const g = await m.acquire();
    const other = watch(m.acquire());
    const waiting = watch(c.wait({ timeout: 20 }));
    // wait() released the mutex, which went straight to the queued acquirer.
    const o = await other.promise;
    assert.equal(c.waiting, 1);
    // Poll until the wait has timed out (it leaves the condition's queue then).
    while (c.waiting > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await flush();
    assert.equal(waiting.settled(), false, 'the timed-out wait still needs the mutex back');
    o.release();
    await rejectsTimeout(waiting.promise, 20);
    assert.equal(m.isLocked, true);
    assert.equal(g.held, true);
    g.release();
    assert.equal(m.isLocked, false);
  });

  test('an aborted wait settles only once it has the mutex back', async () => {
    const m = new Mutex();
    const c = new Condition(m);
    const ac = new AbortController();
    const g = await m.acquire();
    const other = watch(m.acquire());
    const waiting = watch(c.wait({ signal: ac.signal }));
    const o = await other.promise;
    ac.abort('give up');
    await flush();
    assert.equal(c.waiting, 0);
    assert.equal(waiting.settled(), false, 'the aborted wait still needs the mutex back');
    o.release();
    await rejectsAbort(waiting.promise, 'give up');
    assert.equal(g.held, true);
    g.release();
    assert.equal(m.isLocked, false);
  });

  test('timeout: 0 rejects TimeoutError with the mutex held', async () => {
    const m = new Mutex();
    const c = new Condition(m);
    using g = await m.acquire();
    await rejectsTimeout(c.wait({ timeout: 0 }), 0);
    assert.equal(m.isLocked, true);
    assert.equal(g.held, true);
    assert.equal(c.waiting, 0);
  });

  test('aborting a wait rejects AbortError with the mutex re-acquired', async () => {
    const m = new Mutex();
    const c = new Condition(m);
    const ac = new AbortController();
    const reason = new Error('abort wait');
    const g = await m.acquire();
    const p = c.wait({ signal: ac.signal });
    await flush();
    assert.equal(m.isLocked, false);
    ac.abort(reason);
    await rejectsAbort(p, reason);
    assert.equal(m.isLocked, true);
    assert.equal(g.held, true);
    g.release();
  });

  test('an already-aborted signal rejects without releasing the mutex', async () => {
    const m = new Mutex();
    const c = new Condition(m);
    const g = await m.acquire();
    const other = watch(m.acquire());
    await rejectsAbort(c.wait({ signal: AbortSignal.abort('pre') }), 'pre');
    await flush();
    assert.equal(other.settled(), false, 'the mutex was never handed to another waiter');
    assert.equal(g.held, true);
    g.release();
    (await other.promise).release();
  });

  test('waitFor re-checks the predicate after every wake and returns its value', async () => {
    const m = new Mutex();
    const c = new Condition(m);
    let value = 0;
    let checks = 0;
    const waiter = (async () => {
      using _g = await m.acquire();
      return await c.waitFor(() => {
        checks++;
        return value >= 3 ? `value ${value}` : undefined;
      });
    })();
    for (let i = 1; i <= 3; i++) {
      await flush();
      using _g = await m.acquire();
      value = i;
      c.notify();
    }
    assert.equal(await waiter, 'value 3');
    assert.equal(checks, 4);
    assert.equal(m.isLocked, false);
  });

  test('waitFor returns at once when the predicate already holds', async () => {
    const m = new Mutex();
    const c = new Condition(m);
    using _g = await m.acquire();
    assert.equal(await c.waitFor(() => 7), 7);
    assert.equal(c.waiting, 0);
  });

  test('waitFor with a timeout rejects TimeoutError with the mutex held', async () => {
    const m = new Mutex();
    const c = new Condition(m);
    using g = await m.acquire();
    await assert.rejects(
      c.waitFor(() => false, { timeout: 20 }),
      (err: unknown) => err instanceof TimeoutError,
    );
    assert.equal(m.isLocked, true);
    assert.equal(g.held, true);
  });

  test('waitFor with an abort signal rejects AbortError', async () => {
    const m = new Mutex();
    const c = new Condition(m);
    const ac = new AbortController();
    using g = await m.acquire();
    const p = c.waitFor(() => false, { signal: ac.signal });
    await flush();
    ac.abort('stop');
    await rejectsAbort(p, 'stop');
    assert.equal(g.held, true);
  });

  test('a bounded buffer guarded by two conditions loses and reorders nothing', async () => {
    const m = new Mutex();
    const notFull = new Condition(m);
    const notEmpty = new Condition(m);
    const buffer: number[] = [];
    const capacity = 3;
    const got: number[] = [];
    let maxLength = 0;
    const producers = [0, 1, 2].map((p) =>
      spawn(`producer ${p}`, async () => {
        for (let i = 0; i < 50; i++) {
          using _g = await m.acquire();
          await notFull.waitFor(() => buffer.length < capacity);
          buffer.push(p * 1000 + i);
          maxLength = Math.max(maxLength, buffer.length);
          notEmpty.notify();
        }
      }),
    );
    const consumers = [0, 1].map((c) =>
      spawn(`consumer ${c}`, async () => {
        for (let i = 0; i < 75; i++) {
          using _g = await m.acquire();
          await notEmpty.waitFor(() => buffer.length > 0);
          got.push(buffer.shift()!);
          notFull.notify();
        }
      }),
    );
    await Promise.all([...producers, ...consumers].map((t) => t.join()));
    assert.equal(got.length, 150);
    assert.ok(maxLength <= capacity);
    for (let p = 0; p < 3; p++) {
      const mine = got.filter((v) => Math.floor(v / 1000) === p);
      assert.deepEqual(
        mine,
        Array.from({ length: 50 }, (_, i) => p * 1000 + i),
      );
    }
    assert.equal(m.isLocked, false);
    assert.equal(notFull.waiting + notEmpty.waiting, 0);
  });
});

describe('Event', () => {
  test('wait blocks until set, and set wakes every waiter', async () => {
    const e = new Event({ name: 'ready' });
    assert.equal(e.name, 'ready');
    assert.equal(e.isSet, false);
    const waits = [watch(e.wait()), watch(e.wait()), watch(e.wait())];
    await flush();
    assert.ok(waits.every((w) => !w.settled()));
    e.set();
    assert.equal(e.isSet, true);
    await Promise.all(waits.map((w) => w.promise));
    assert.ok(waits.every((w) => w.settled()));
  });

  test('wait on a set event resolves at once; clear makes it block again', async () => {
    const e = new Event();
    e.set();
    await e.wait();
    await e.wait({ timeout: 0 });
    e.clear();
    assert.equal(e.isSet, false);
    const w = watch(e.wait());
    await flush();
    assert.equal(w.settled(), false);
    e.set();
    await w.promise;
    assert.equal(w.settled(), true);
  });

  test('clear after set does not un-wake the waiters already woken', async () => {
    const e = new Event();
    const w = watch(e.wait());
    e.set();
    e.clear();
    await w.promise;
    assert.equal(w.settled(), true);
    assert.equal(e.isSet, false);
  });

  test('wait times out with TimeoutError; timeout: 0 rejects when not set', async () => {
    const e = new Event();
    await rejectsTimeout(e.wait({ timeout: 20 }), 20);
    await rejectsTimeout(e.wait({ timeout: 0 }), 0);
    const w = watch(e.wait());
    e.set();
    await w.promise;
  });

  test('aborting a wait rejects AbortError; an already-aborted signal rejects even when set', async () => {
    const e = new Event();
    const ac = new AbortController();
    const reason = new Error('no');
    const p = e.wait({ signal: ac.signal });
    ac.abort(reason);
    await rejectsAbort(p, reason);
    e.set();
    await rejectsAbort(e.wait({ signal: AbortSignal.abort(reason) }), reason);
  });
});
