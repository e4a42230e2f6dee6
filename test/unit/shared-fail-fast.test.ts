// The fail-fast table of shared locks (shared/fail-fast.ts), driven by hand: threads are tags
// (thread id + 1) that publish their holds and waits as SharedMutex would, and locks are bare
// word arrays with their id and table words.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  lockIdOf,
  markTerminating,
  publishHolder,
  publishWait,
  sharedCycle,
} from '../../runtime-probe/src/shared/fail-fast.js';
import { markEnded } from '../../runtime-probe/src/shared/lifetimes.js';

const ID = 19;
const TABLE = 20;
let made = 0;
/** A new lock's id in this process's table. */
function newLock(): number {
  return lockIdOf(new Int32Array(new SharedArrayBuffer(32 * 4)), ID, TABLE, `lock ${++made}`);
}

// Tags far from any real thread of this process; each test uses its own.
const tags = (base: number): [number, number, number] => [base, base + 1, base + 2];

function clear(locks: number[], waiters: number[]): void {
  for (const l of locks) publishHolder(l, 0);
  for (const t of waiters) publishWait(t, 0);
}

describe('fail-fast across threads: the table', () => {
  test('a cycle of blocked threads comes back to the one that closes it', () => {
    const [A, B, C] = tags(1001);
    const [l1, l2, l3] = [newLock(), newLock(), newLock()];
    publishHolder(l1, A);
    publishHolder(l2, B);
    publishHolder(l3, C);
    assert.ok(publishWait(B, l3));
    assert.ok(publishWait(C, l1));
    // A asks for l2: B holds it and waits for l3, which C holds, waiting for l1, which A holds.
    assert.deepEqual(sharedCycle(A, l2), [
      { tag: A, lock: l2, holder: B },
      { tag: B, lock: l3, holder: C },
      { tag: C, lock: l1, holder: A },
    ]);
    // Once C no longer waits, there is no cycle.
    publishWait(C, 0);
    assert.equal(sharedCycle(A, l2), undefined);
    clear([l1, l2, l3], [B]);
  });

  test('a hold withdrawn, or a chain that loops elsewhere, is no cycle', () => {
    const [A, B, C] = tags(2001);
    const [l1, l2] = [newLock(), newLock()];
    publishHolder(l1, B);
    publishWait(B, l2);
    assert.equal(sharedCycle(A, l1), undefined, 'l2 has no holder');
    publishHolder(l2, C);
    publishWait(C, l1);
    assert.equal(sharedCycle(A, l1), undefined, 'B and C wait for each other, not for A');
    clear([l1, l2], [B, C]);
  });

  test('a lock held by the thread that asks for it again is a cycle of one', () => {
    const [A] = tags(3001);
    const l = newLock();
    publishHolder(l, A);
    assert.deepEqual(sharedCycle(A, l), [{ tag: A, lock: l, holder: A }]);
    publishHolder(l, 0);
    assert.equal(sharedCycle(A, l), undefined);
  });

  test('a thread that has ended, or is being terminated, is no link', () => {
    const [A, B] = tags(4001);
    const [l1, l2] = [newLock(), newLock()];
    publishHolder(l1, A);
    publishHolder(l2, B);
    publishWait(B, l1);
    assert.ok(sharedCycle(A, l2), 'the cycle, while B is blocked');
    markTerminating(B - 1);
    assert.equal(sharedCycle(A, l2), undefined, 'B is being terminated');
    const [C, D] = tags(4101);
    publishHolder(l2, D);
    publishWait(D, l1);
    assert.ok(sharedCycle(A, l2));
    markEnded(D - 1);
    assert.equal(sharedCycle(A, l2), undefined, 'D has ended');
    void C;
    clear([l1, l2], [B, D]);
  });

  test('a slot owned by another live thread takes no wait of a second one', () => {
    const [A] = tags(5001);
    const sameSlot = A + 4096;
    const l = newLock();
    assert.ok(publishWait(A, l));
    assert.equal(publishWait(sameSlot, l), false, 'A owns the slot and lives');
    publishHolder(l, A);
    // The slot names A: a chain through the other thread of that slot stops.
    const l2 = newLock();
    publishHolder(l2, sameSlot);
    assert.equal(sharedCycle(A, l2), undefined);
    clear([l, l2], [A]);
  });

  test('a lock of another table, or out of ids, takes no part', () => {
    const words = new Int32Array(new SharedArrayBuffer(32 * 4));
    words[TABLE] = 12345; // another table's nonce (this one's is never 12345 by chance here)
    assert.equal(lockIdOf(words, ID, TABLE, 'foreign'), 0);
    assert.equal(sharedCycle(1, 0), undefined);
    assert.equal(sharedCycle(1, 1 << 30), undefined);
  });
});
