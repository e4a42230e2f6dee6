// Semantics of RWLock: shared readers, exclusive writers, the writer-preferring and fair policies,
// tryRead/tryWrite, timeouts and abort.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AbortError,
  LockMisuseError,
  RWLock,
  TimeoutError,
  spawn,
} from '../../runtime-probe/src/index.js';
import { flush, rejectsAbort, rejectsTimeout, watch } from './helpers.js';

/** Lets pending promise continuations run, but no timer: a short timeout cannot fire meanwhile. */
async function ticks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** A small seeded generator, so the random schedule is the same on every run. */
function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

describe('RWLock basics', () => {
  test('the default policy is writer-preferring; an unknown policy throws', () => {
    assert.equal(new RWLock().policy, 'writer-preferring');
    assert.equal(new RWLock({ policy: 'fair' }).policy, 'fair');
    assert.throws(
      () => new RWLock({ policy: 'random' as unknown as 'fair' }),
      (err: unknown) => err instanceof TypeError,
    );
  });

  test('many readers hold the lock at once', async () => {
    const rw = new RWLock();
    const guards = await Promise.all([rw.read(), rw.read(), rw.read()]);
    assert.equal(rw.readers, 3);
    assert.equal(rw.isWriteLocked, false);
    const extra = rw.tryRead();
    assert.ok(extra);
    assert.equal(rw.readers, 4);
    extra.release();
    for (const g of guards) g.release();
    assert.equal(rw.readers, 0);
  });

  test('a writer excludes readers and other writers', async () => {
    const rw = new RWLock();
    const w = await rw.write();
    assert.equal(rw.isWriteLocked, true);
    assert.equal(rw.tryRead(), undefined);
    assert.equal(rw.tryWrite(), undefined);
    const r1 = watch(rw.read());
    const r2 = watch(rw.read());
    const w2 = watch(rw.write());
    await flush();
    assert.equal(r1.settled(), false);
    assert.equal(r2.settled(), false);
    assert.equal(w2.settled(), false);
    w.release();
    // r1 and r2 arrived before w2, but w2 waits, so under writer preference w2 goes first.
    const g2 = await w2.promise;
    assert.equal(rw.isWriteLocked, true);
    await flush();
    assert.equal(r1.settled(), false);
    g2.release();
    const [a, b] = await Promise.all([r1.promise, r2.promise]);
    assert.equal(rw.readers, 2);
    a.release();
    b.release();
    assert.equal(rw.readers, 0);
  });

  test('a writer waits for every reader to leave', async () => {
    const rw = new RWLock();
    const r1 = await rw.read();
    const r2 = await rw.read();
    const w = watch(rw.write());
    r1.release();
    await flush();
    assert.equal(w.settled(), false);
    assert.equal(rw.isWriteLocked, false);
    r2.release();
    const g = await w.promise;
    assert.equal(rw.isWriteLocked, true);
    assert.equal(rw.readers, 0);
    g.release();
    assert.equal(rw.isWriteLocked, false);
  });

  test('readers waiting behind a writer all enter together when it releases', async () => {
    const rw = new RWLock();
    const w = await rw.write();
    const rs = [watch(rw.read()), watch(rw.read()), watch(rw.read())];
    w.release();
    // Granted synchronously by the release.
    assert.equal(rw.readers, 3);
    const guards = await Promise.all(rs.map((r) => r.promise));
    for (const g of guards) g.release();
    assert.equal(rw.readers, 0);
  });

  test('tryRead and tryWrite', () => {
    const rw = new RWLock();
    const w = rw.tryWrite();
    assert.ok(w);
    assert.equal(rw.tryWrite(), undefined);
    assert.equal(rw.tryRead(), undefined);
    w.release();
    const r = rw.tryRead();
    assert.ok(r);
    assert.equal(rw.tryWrite(), undefined, 'a reader blocks tryWrite');
    const r2 = rw.tryRead();
    assert.ok(r2);
    r.release();
    r2.release();
    const w2 = rw.tryWrite();
    assert.ok(w2);
    w2.release();
  });

  test('`using` releases read and write guards; release() twice throws LockMisuseError', async () => {
    const rw = new RWLock();
    {
      using _r = await rw.read();
      assert.equal(rw.readers, 1);
    }
    assert.equal(rw.readers, 0);
    {
      using w = await rw.write();
      assert.equal(rw.isWriteLocked, true);
      w.release();
      assert.equal(rw.isWriteLocked, false);
    }
    assert.equal(rw.isWriteLocked, false);
    const r = await rw.read();
    r.release();
    assert.throws(() => r.release(), LockMisuseError);
    assert.equal(rw.readers, 0, 'the failed second release did not decrement');
  });
});

describe('RWLock writer-preferring policy', () => {
  test('a new reader waits behind a waiting writer', async () => {
    const rw = new RWLock();
    const r1 = await rw.read();
    const order: string[] = [];
    const w = rw.write().then((g) => {
      order.push('w');
      return g;
    });
    assert.equal(rw.tryRead(), undefined, 'tryRead fails while a writer waits');
    const r2 = rw.read().then((g) => {
      order.push('r2');
      return g;
    });
    await flush();
    assert.deepEqual(order, []);
    assert.equal(rw.readers, 1);
    r1.release();
    const wg = await w;
    await flush();
    assert.deepEqual(order, ['w']);
    wg.release();
    (await r2).release();
    assert.deepEqual(order, ['w', 'r2']);
  });

  test('a writer that times out lets the readers queued behind it in', async () => {
    const rw = new RWLock();
    const r1 = await rw.read();
    const w = rw.write({ timeout: 20 });
    const r2 = watch(rw.read());
    await ticks();
    assert.equal(r2.settled(), false);
    await rejectsTimeout(w, 20);
    const g2 = await r2.promise;
    assert.equal(rw.readers, 2);
    const r3 = rw.tryRead();
    assert.ok(r3, 'no writer is counted as waiting any more');
    r3.release();
    g2.release();
    r1.release();
    const wg = rw.tryWrite();
    assert.ok(wg);
    wg.release();
  });

  test('a writer that is aborted lets the readers queued behind it in', async () => {
    const rw = new RWLock();
    const r1 = await rw.read();
    const ac = new AbortController();
    const reason = new Error('no longer needed');
    const w = rw.write({ signal: ac.signal });
    const r2 = watch(rw.read());
    await flush();
    assert.equal(r2.settled(), false);
    ac.abort(reason);
    await rejectsAbort(w, reason);
    (await r2.promise).release();
    r1.release();
    assert.equal(rw.readers, 0);
  });

  test('a writer rejected by timeout: 0 or an aborted signal is not counted as waiting', async () => {
    const rw = new RWLock();
    const r1 = await rw.read();
    await rejectsTimeout(rw.write({ timeout: 0 }), 0);
    await rejectsAbort(rw.write({ signal: AbortSignal.abort('x') }), 'x');
    const r2 = rw.tryRead();
    assert.ok(r2, 'readers are still admitted');
    r2.release();
    r1.release();
  });
});

describe('RWLock fair policy', () => {
  test('a new reader waits behind a waiting writer, in arrival order', async () => {
    const rw = new RWLock({ policy: 'fair' });
    const r1 = await rw.read();
    const order: string[] = [];
    const w = rw.write().then((g) => {
      order.push('w');
      return g;
    });
    assert.equal(rw.tryRead(), undefined);
    const r2 = rw.read().then((g) => {
      order.push('r2');
      return g;
    });
    r1.release();
    (await w).release();
    (await r2).release();
    assert.deepEqual(order, ['w', 'r2']);
  });

  test('waiters are admitted in FIFO batches: consecutive readers together', async () => {
    const rw = new RWLock({ policy: 'fair' });
    const w1 = await rw.write();
    const ra = watch(rw.read());
    const rb = watch(rw.read());
    const w2 = watch(rw.write());
    const rc = watch(rw.read());
    w1.release();
    const [ga, gb] = await Promise.all([ra.promise, rb.promise]);
    assert.equal(rw.readers, 2);
    await flush();
    assert.equal(w2.settled(), false);
    assert.equal(rc.settled(), false, 'a reader behind a waiting writer waits (fair)');
    ga.release();
    await flush();
    assert.equal(w2.settled(), false);
    gb.release();
    const gw2 = await w2.promise;
    assert.equal(rw.isWriteLocked, true);
    await flush();
    assert.equal(rc.settled(), false);
    gw2.release();
    (await rc.promise).release();
    assert.equal(rw.readers, 0);
  });

  test('an earlier reader goes before a later writer (unlike writer preference)', async () => {
    const order: string[] = [];
    for (const policy of ['fair', 'writer-preferring'] as const) {
      const rw = new RWLock({ policy });
      const w1 = await rw.write();
      const r = rw.read().then((g) => {
        order.push(`${policy}:r`);
        g.release();
      });
      const w2 = rw.write().then((g) => {
        order.push(`${policy}:w`);
        g.release();
      });
      w1.release();
      await Promise.all([r, w2]);
    }
    assert.deepEqual(order, ['fair:r', 'fair:w', 'writer-preferring:w', 'writer-preferring:r']);
  });

  test('a writer that times out lets queued readers in', async () => {
    const rw = new RWLock({ policy: 'fair' });
    const r1 = await rw.read();
    const w = rw.write({ timeout: 20 });
    const r2 = watch(rw.read());
    await rejectsTimeout(w, 20);
    const g2 = await r2.promise;
    assert.equal(rw.readers, 2);
    g2.release();
    r1.release();
  });
});

describe('RWLock timeouts and abort', () => {
  test('read and write time out while a writer holds', async () => {
    const rw = new RWLock();
    const w = await rw.write();
    await rejectsTimeout(rw.read({ timeout: 20 }), 20);
    await rejectsTimeout(rw.write({ timeout: 20 }), 20);
    await rejectsTimeout(rw.read({ timeout: 0 }), 0);
    await rejectsTimeout(rw.write({ timeout: 0 }), 0);
    w.release();
    assert.equal(rw.isWriteLocked, false);
    assert.equal(rw.readers, 0, 'no waiter that gave up was granted');
  });

  test('timeout: 0 succeeds when the lock is available', async () => {
    const rw = new RWLock();
    const r = await rw.read({ timeout: 0 });
    assert.equal(rw.readers, 1);
    r.release();
    const w = await rw.write({ timeout: 0 });
    assert.equal(rw.isWriteLocked, true);
    w.release();
  });

  test('aborting a pending read rejects AbortError with the reason', async () => {
    const rw = new RWLock();
    const w = await rw.write();
    const ac = new AbortController();
    const p = rw.read({ signal: ac.signal });
    ac.abort('enough');
    await rejectsAbort(p, 'enough');
    w.release();
    assert.equal(rw.readers, 0);
  });

  test('an already-aborted signal rejects read and write even when the lock is free', async () => {
    const rw = new RWLock();
    const reason = new Error('pre');
    await rejectsAbort(rw.read({ signal: AbortSignal.abort(reason) }), reason);
    await rejectsAbort(rw.write({ signal: AbortSignal.abort(reason) }), reason);
    assert.equal(rw.readers, 0);
    assert.equal(rw.isWriteLocked, false);
    const w = rw.tryWrite();
    assert.ok(w, 'the lock is still free');
    w.release();
  });

  test('many tasks with random reads, writes, aborts and timeouts keep the invariants', async () => {
    for (const policy of ['fair', 'writer-preferring'] as const) {
      const rw = new RWLock({ policy });
      const random = lcg(7);
      let readers = 0;
      let writers = 0;
      let violations = 0;
      let granted = 0;
      const tasks = Array.from({ length: 20 }, (_, k) =>
        spawn(`${policy} ${k}`, async () => {
          for (let i = 0; i < 30; i++) {
            const write = random() < 0.3;
            const ac = new AbortController();
            const options = { signal: ac.signal, timeout: random() < 0.2 ? 0 : undefined };
            const p = write ? rw.write(options) : rw.read(options);
            if (random() < 0.1) ac.abort();
            let g;
            try {
              g = await p;
            } catch (err) {
              assert.ok(err instanceof AbortError || err instanceof TimeoutError);
              continue;
            }
            granted++;
            if (write) {
              writers++;
              if (writers > 1 || readers > 0) violations++;
            } else {
              readers++;
              if (writers > 0) violations++;
            }
            await flush();
            if (write) writers--;
            else readers--;
            g.release();
          }
        }),
      );
      await Promise.all(tasks.map((t) => t.join()));
      assert.equal(violations, 0, policy);
      assert.ok(granted > 0);
      assert.equal(rw.readers, 0);
      assert.equal(rw.isWriteLocked, false);
      const w = rw.tryWrite();
      assert.ok(w, `${policy}: the lock is free at the end`);
      w.release();
    }
  });
});
