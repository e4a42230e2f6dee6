// Fail-fast on read-write locks: a refused request carries its cycle and leaves the lock as it
// was; waits that end, flows that are still provisional and writers through helpers are never
// taken for a cycle.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DeadlockError, RWLock, sleep, spawn } from '../../runtime-probe/src/index.js';
import { withFailFast } from './helpers.js';

describe('fail-fast on a read-write lock', () => {
  test('a refused upgrade names itself, starts at the caller, and leaves reads open', () =>
    withFailFast(async () => {
      const prices = new RWLock({ name: 'prices' });
      const t = spawn('pricer', async () => {
        const read = await prices.read();
        const err = await prices.write().then(
          () => assert.fail('the upgrade was granted'),
          (e: unknown) => e,
        );
        assert.ok(err instanceof DeadlockError);
        assert.deepEqual(
          err.cycle.map((s) => [s.task, s.resource, s.blockedBy]),
          [['pricer', 'prices', 'pricer']],
        );
        assert.match(err.stack?.split('\n')[1] ?? '', /fail-fast-rwlock\.test\.ts:\d+:\d+/);
        read.release();
        // The refused writer no longer holds readers back.
        assert.equal(prices.waiting, 0);
        const again = prices.tryRead();
        assert.ok(again, 'a read is admitted once the lock is free');
        again.release();
        (await prices.read()).release();
      });
      await t.join();
    }));

  test('a write through an async helper, behind a reader, is not its own cycle', () =>
    withFailFast(async () => {
      const lock = new RWLock({ name: 'L' });
      const lockForWriting = async () => await lock.write();
      const holder = spawn('holder', async () => {
        const g = await lock.read();
        await sleep(20);
        g.release();
      });
      const writer = spawn('writer', async () => {
        await sleep(2);
        (await lockForWriting()).release();
      });
      await holder.join();
      await writer.join();
    }));

  test('a writer that takes the lock again at once is not blocked by a reader it let in', () =>
    withFailFast(async () => {
      const lock = new RWLock({ name: 'L' });
      let refused = 0;
      const writer = spawn('writer', async () => {
        for (let i = 0; i < 3; i++) {
          try {
            const g = await lock.write();
            await sleep(5);
            g.release();
          } catch (e) {
            if (!(e instanceof DeadlockError)) throw e;
            refused++;
          }
        }
      });
      const reader = spawn('reader', async () => {
        await sleep(1);
        const g = await lock.read();
        await sleep(2);
        g.release();
      });
      await writer.join();
      await reader.join();
      assert.equal(refused, 0);
    }));
});
