// The process's table of ended threads (shared/lifetimes.ts), on thread ids no real thread of
// this test process has: what marks a thread ended, and what never does.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  hasEnded,
  markEnded,
  markGone,
  recordParent,
  SLOTS,
} from '../../runtime-probe/src/shared/lifetimes.js';

// Far above the threads this process starts, and each test on slots of its own.
const BASE = 5 * SLOTS;

describe('thread lifetimes', () => {
  test('a thread has ended once marked so; the main thread never has', () => {
    const t = BASE + 11;
    assert.equal(hasEnded(t), false);
    markEnded(t);
    assert.equal(hasEnded(t), true);
    markEnded(0);
    assert.equal(hasEnded(0), false, 'the main thread is the process');
  });

  test("a gone thread's descendants have ended; a thread that only ended says nothing of them", () => {
    const [parent, child, grandchild, other] = [BASE + 21, BASE + 22, BASE + 23, BASE + 24];
    recordParent(child, parent);
    recordParent(grandchild, child);
    recordParent(other, 0);
    markEnded(parent);
    assert.equal(hasEnded(child), false, 'its exit listeners run while its workers still do');
    markGone(parent);
    assert.equal(hasEnded(child), true);
    assert.equal(hasEnded(grandchild), true);
    assert.equal(hasEnded(other), false);
  });

  test("a slot reused by a later thread hides the earlier thread's marks, never shows them", () => {
    const [early, parent] = [BASE + 31, BASE + 32];
    const late = early + SLOTS;
    recordParent(early, parent);
    markGone(parent);
    assert.equal(hasEnded(early), true, 'gone with its parent');
    assert.equal(hasEnded(late), false, "the early thread's parent is not the late one's");
    recordParent(late, BASE + 33);
    assert.equal(hasEnded(early), false, 'its parent record is hidden');
    markEnded(early);
    assert.equal(hasEnded(late), false, "the early thread's end is not the late one's");
    markEnded(late);
    assert.equal(hasEnded(late), true);
    assert.equal(hasEnded(early), false, 'its end is hidden');
  });
});
