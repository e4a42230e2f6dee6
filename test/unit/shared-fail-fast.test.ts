// The fail-fast table of shared locks (shared/fail-fast.ts), driven by hand: threads are tags
// (thread id + 1) that publish their holds and waits as SharedMutex would.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  newLockId,
  publishHolder,
  publishWait,
  sharedCycle,
} from '../../runtime-probe/src/shared/fail-fast.js';

// Tags far from any real thread of this process.
const A = 9001;
const B = 9002;
const C = 9003;

describe('fail-fast across threads: the table', () => {
  test('a cycle of blocked threads comes back to the one that closes it', () => {
    const [l1, l2, l3] = [newLockId(), newLockId(), newLockId()];
    publishHolder(l1, A);
    publishHolder(l2, B);
    publishHolder(l3, C);
    publishWait(B, l3);
    publishWait(C, l1);
    // A asks for l2: B holds it and waits for l3, which C holds, waiting for l1, which A holds.
    assert.deepEqual(sharedCycle(A, l2), [
      { tag: A, lock: l2, holder: B },
      { tag: B, lock: l3, holder: C },
      { tag: C, lock: l1, holder: A },
    ]);
    // Once C no longer waits, there is no cycle.
    publishWait(C, 0);
    assert.equal(sharedCycle(A, l2), undefined);
    for (const l of [l1, l2, l3]) publishHolder(l, 0);
    publishWait(B, 0);
  });

  test('a hold withdrawn, or a chain that loops elsewhere, is no cycle', () => {
    const [l1, l2] = [newLockId(), newLockId()];
    publishHolder(l1, B);
    publishWait(B, l2);
    assert.equal(sharedCycle(A, l1), undefined, 'l2 has no holder');
    publishHolder(l2, C);
    publishWait(C, l1);
    assert.equal(sharedCycle(A, l1), undefined, 'B and C wait for each other, not for A');
    publishHolder(l1, 0);
    publishHolder(l2, 0);
    publishWait(B, 0);
    publishWait(C, 0);
  });

  test('a lock held by the thread that asks for it again is a cycle of one', () => {
    const l = newLockId();
    publishHolder(l, A);
    assert.deepEqual(sharedCycle(A, l), [{ tag: A, lock: l, holder: A }]);
    publishHolder(l, 0);
    assert.equal(sharedCycle(A, l), undefined);
  });

  test('ids out of the table take no part', () => {
    assert.equal(sharedCycle(A, 0), undefined);
    assert.equal(sharedCycle(A, 1 << 30), undefined);
  });
});
