// Semantics of Barrier (cyclic, breakable) and WaitGroup.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Barrier,
  BrokenBarrierError,
  LockMisuseError,
  LockscopeError,
  spawn,
  WaitGroup,
} from '../../runtime-probe/src/index.js';
import { flush, rejectsAbort, rejectsTimeout, watch } from './helpers.js';

async function rejectsBroken(p: Promise<unknown>): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(
      err instanceof BrokenBarrierError,
      `expected a BrokenBarrierError, got ${String(err)}`,
    );
    assert.ok(err instanceof LockscopeError);
    assert.equal(err.name, 'BrokenBarrierError');
    return true;
  });
}

describe('Barrier', () => {
  test('the constructor checks parties', () => {
    assert.throws(() => new Barrier(0), TypeError);
    assert.throws(() => new Barrier(2.5), TypeError);
    const b = new Barrier(3, { name: 'b' });
    assert.equal(b.parties, 3);
    assert.equal(b.name, 'b');
    assert.equal(b.generation, 0);
    assert.equal(b.broken, false);
  });

  test('parties wait for the last one; indices follow arrival; generations cycle', async () => {
    let actions = 0;
    const b = new Barrier(3, { action: () => actions++ });
    for (let gen = 0; gen < 3; gen++) {
      const first = watch(b.wait());
      const second = watch(b.wait());
      await flush();
      assert.equal(first.settled(), false);
      assert.equal(second.settled(), false);
      assert.equal(b.waiting, 2);
      assert.equal(actions, gen);
      const third = await b.wait();
      assert.deepEqual([await first.promise, await second.promise, third], [0, 1, 2]);
      assert.equal(actions, gen + 1, 'the action runs once per generation');
      assert.equal(b.generation, gen + 1);
      assert.equal(b.waiting, 0);
    }
    assert.equal(b.broken, false);
  });

  test('the action runs when the last party arrives, before any party is released', async () => {
    const released: number[] = [];
    let seenAtAction: number[] | undefined;
    const b = new Barrier(2, {
      action: () => {
        seenAtAction = [...released];
      },
    });
    const first = b.wait().then((i) => released.push(i));
    await flush();
    assert.equal(seenAtAction, undefined, 'not yet: only one party arrived');
    const second = b.wait().then((i) => released.push(i));
    await Promise.all([first, second]);
    assert.deepEqual(seenAtAction, []);
    assert.deepEqual(released.sort(), [0, 1]);
  });

  test('a barrier of one party passes at once', async () => {
    const b = new Barrier(1);
    assert.equal(await b.wait(), 0);
    assert.equal(await b.wait({ timeout: 0 }), 0);
    assert.equal(b.generation, 2);
  });

  test("a party's timeout breaks the barrier for everyone", async () => {
    const b = new Barrier(3);
    const a = b.wait();
    const t = b.wait({ timeout: 20 });
    await rejectsTimeout(t, 20);
    await rejectsBroken(a);
    assert.equal(b.broken, true);
    assert.equal(b.waiting, 0);
    await rejectsBroken(b.wait());
    await rejectsBroken(b.wait({ timeout: 0 }));
  });

  test('timeout: 0 from a party that is not the last breaks the barrier', async () => {
    const b = new Barrier(3);
    const a = b.wait();
    await rejectsTimeout(b.wait({ timeout: 0 }), 0);
    await rejectsBroken(a);
    assert.equal(b.broken, true);
  });

  test('timeout: 0 from the last party passes', async () => {
    const b = new Barrier(2);
    const a = b.wait();
    assert.equal(await b.wait({ timeout: 0 }), 1);
    assert.equal(await a, 0);
    assert.equal(b.broken, false);
  });

  test('an aborted party rejects AbortError and breaks the barrier', async () => {
    const b = new Barrier(3);
    const ac = new AbortController();
    const reason = new Error('leave');
    const a = b.wait();
    const c = b.wait({ signal: ac.signal });
    await flush();
    ac.abort(reason);
    await rejectsAbort(c, reason);
    await rejectsBroken(a);
    assert.equal(b.broken, true);
  });

  test('an already-aborted signal rejects AbortError and breaks the barrier', async () => {
    const b = new Barrier(2);
    const a = b.wait();
    const reason = 'pre';
    // Even though this party would be the last to arrive.
    await rejectsAbort(b.wait({ signal: AbortSignal.abort(reason) }), reason);
    await rejectsBroken(a);
    assert.equal(b.broken, true);
    assert.equal(b.waiting, 0);
  });

  test('abort() rejects current and later waiters with BrokenBarrierError', async () => {
    const b = new Barrier(3);
    const waits = [b.wait(), b.wait()];
    await flush();
    b.abort();
    assert.equal(b.broken, true);
    for (const w of waits) await rejectsBroken(w);
    await rejectsBroken(b.wait());
  });

  test('reset() rejects current waiters and makes the barrier usable again', async () => {
    let actions = 0;
    const b = new Barrier(2, { action: () => actions++ });
    const stale = b.wait();
    await flush();
    b.reset();
    await rejectsBroken(stale);
    assert.equal(b.broken, false);
    assert.equal(b.waiting, 0);
    assert.equal(actions, 0);
    const gen = b.generation;
    const indices = await Promise.all([b.wait(), b.wait()]);
    assert.deepEqual(indices, [0, 1], 'indices start again from 0');
    assert.equal(actions, 1);
    assert.equal(b.generation, gen + 1);
    // A broken barrier is repaired by reset() too.
    b.abort();
    await rejectsBroken(b.wait());
    b.reset();
    assert.equal(b.broken, false);
    assert.deepEqual(await Promise.all([b.wait(), b.wait()]), [0, 1]);
  });

  test('an action that throws breaks the barrier', async () => {
    const boom = new Error('action failed');
    const b = new Barrier(2, {
      action: () => {
        throw boom;
      },
    });
    const a = b.wait();
    await assert.rejects(b.wait(), (err: unknown) => {
      assert.ok(err instanceof BrokenBarrierError);
      assert.equal(err.cause, boom);
      return true;
    });
    await rejectsBroken(a);
    assert.equal(b.broken, true);
  });

  test('spawned tasks pass through many generations together', async () => {
    let actions = 0;
    const b = new Barrier(4, { action: () => actions++ });
    const rounds = 25;
    const results = await Promise.all(
      [0, 1, 2, 3].map((k) =>
        spawn(`party ${k}`, async () => {
          const indices: number[] = [];
          for (let g = 0; g < rounds; g++) {
            indices.push(await b.wait());
            await flush();
          }
          return indices;
        }).join(),
      ),
    );
    assert.equal(actions, rounds);
    assert.equal(b.generation, rounds);
    for (let g = 0; g < rounds; g++) {
      assert.deepEqual(results.map((r) => r[g]).sort(), [0, 1, 2, 3]);
    }
  });
});

describe('WaitGroup', () => {
  test('wait resolves at once when the counter is zero', async () => {
    const wg = new WaitGroup({ name: 'wg' });
    assert.equal(wg.name, 'wg');
    assert.equal(wg.count, 0);
    await wg.wait();
    await wg.wait({ timeout: 0 });
  });

  test('wait resolves when done() brings the counter back to zero', async () => {
    const wg = new WaitGroup();
    wg.add(3);
    assert.equal(wg.count, 3);
    const waits = [watch(wg.wait()), watch(wg.wait())];
    wg.done();
    wg.done();
    await flush();
    assert.equal(wg.count, 1);
    assert.ok(waits.every((w) => !w.settled()));
    wg.done();
    assert.equal(wg.count, 0);
    await Promise.all(waits.map((w) => w.promise));
    assert.ok(waits.every((w) => w.settled()));
  });

  test('add with a negative delta counts down; the group can be reused', async () => {
    const wg = new WaitGroup();
    wg.add(2);
    const w = watch(wg.wait());
    wg.add(-2);
    await w.promise;
    wg.add();
    const again = watch(wg.wait());
    await flush();
    assert.equal(again.settled(), false);
    wg.done();
    await again.promise;
  });

  test('a negative counter throws LockMisuseError and leaves the counter as it was', () => {
    const wg = new WaitGroup();
    assert.throws(
      () => wg.done(),
      (err: unknown) => {
        assert.ok(err instanceof LockMisuseError);
        assert.ok(err instanceof LockscopeError);
        return true;
      },
    );
    assert.equal(wg.count, 0);
    wg.add(2);
    assert.throws(() => wg.add(-3), LockMisuseError);
    assert.equal(wg.count, 2);
    assert.throws(() => wg.add(1.5), TypeError);
    assert.equal(wg.count, 2);
  });

  test('wait times out with TimeoutError; timeout: 0 rejects while work is outstanding', async () => {
    const wg = new WaitGroup();
    wg.add();
    await rejectsTimeout(wg.wait({ timeout: 20 }), 20);
    await rejectsTimeout(wg.wait({ timeout: 0 }), 0);
    wg.done();
    await wg.wait({ timeout: 0 });
  });

  test('aborting a wait rejects AbortError; an already-aborted signal rejects at zero too', async () => {
    const wg = new WaitGroup();
    wg.add();
    const ac = new AbortController();
    const reason = new Error('bye');
    const p = wg.wait({ signal: ac.signal });
    ac.abort(reason);
    await rejectsAbort(p, reason);
    wg.done();
    await rejectsAbort(wg.wait({ signal: AbortSignal.abort(reason) }), reason);
  });
});
