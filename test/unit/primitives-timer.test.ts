// Semantics of Timer (Python's threading.Timer): a function run once after a delay, as a task.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  currentTaskId,
  flushEvents,
  LockMisuseError,
  sleep,
  subscribe,
  Timer,
  type Message,
} from '../../runtime-probe/src/index.js';
import { flush, rejectsTimeout, watch } from './helpers.js';

/** The program's pending timeouts, as Node counts what keeps the event loop alive. */
function pendingTimeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

describe('Timer', () => {
  test('the constructor checks its arguments where they enter', () => {
    const fn = (): void => {};
    assert.throws(() => new Timer(-1, fn), /Timer: ms must be a number from 0 to/);
    assert.throws(() => new Timer(Number.NaN, fn), TypeError);
    assert.throws(() => new Timer('10' as unknown as number, fn), TypeError);
    assert.throws(() => new Timer(2 ** 31, fn), TypeError);
    assert.throws(() => new Timer(10, 'fn' as unknown as () => void), /fn must be a function/);
    assert.throws(() => new Timer(10, fn, null as unknown as object), /options must be an object/);
    assert.throws(
      () => new Timer(10, fn, { name: 3 as unknown as string }),
      /name must be a string/,
    );
    const t = new Timer(0, fn, { name: 'retry' });
    assert.equal(t.name, 'retry');
    assert.equal(t.delay, 0);
  });

  test('default names do not repeat', () => {
    const a = new Timer(0, () => {});
    const b = new Timer(0, () => {});
    assert.match(a.name, /^timer \d+$/);
    assert.notEqual(a.name, b.name);
  });

  test('does nothing until started, then runs the function once, as a task of its own', async () => {
    let calls = 0;
    let ranAs = -1;
    const t = new Timer(1, () => {
      calls++;
      ranAs = currentTaskId();
      return 'fired';
    });
    await sleep(5);
    assert.equal(calls, 0, 'a timer not started never fires');
    assert.equal(t.state, 'created');
    assert.equal(t.start(), t, 'start() returns the timer');
    assert.equal(t.state, 'waiting');
    assert.equal(await t.join(), 'fired');
    assert.equal(calls, 1);
    assert.equal(t.state, 'returned');
    assert.notEqual(ranAs, currentTaskId(), 'the function runs in the timer’s task');
    assert.equal(await t.join(), 'fired', 'joining again gives the same value');
  });

  test('join waits for the function to end, not only for the delay', async () => {
    let finish!: () => void;
    const t = new Timer(0, () => new Promise<void>((resolve) => (finish = resolve))).start();
    const joined = watch(t.join());
    while (t.state !== 'running') await flush();
    await flush();
    assert.equal(joined.settled(), false, 'the function has not ended yet');
    finish();
    await joined.promise;
    assert.equal(t.state, 'returned');
  });

  test('join rejects with what the function threw', async () => {
    const boom = new Error('boom');
    const t = new Timer(0, () => {
      throw boom;
    }).start();
    await assert.rejects(t.join(), (err: unknown) => err === boom);
    assert.equal(t.state, 'threw');
  });

  test('cancel before it fires: the function never runs and join resolves at once', async () => {
    let calls = 0;
    const t = new Timer(50, () => calls++).start();
    assert.equal(t.cancel(), true);
    assert.equal(t.state, 'cancelled');
    assert.equal(t.cancel(), false, 'a second cancel has no effect');
    const joined = watch(t.join());
    await flush();
    assert.equal(joined.settled(), true, 'join of a cancelled timer resolves at once');
    assert.equal(await joined.promise, undefined);
    await sleep(80);
    assert.equal(calls, 0);
    assert.equal(t.state, 'cancelled');
  });

  test('cancel after it fired has no effect', async () => {
    let calls = 0;
    const t = new Timer(0, () => ++calls).start();
    assert.equal(await t.join(), 1);
    assert.equal(t.cancel(), false);
    assert.equal(t.state, 'returned');
    assert.equal(await t.join(), 1);
  });

  test('a cancelled timer leaves no pending timeout to keep the process alive', async () => {
    await flush();
    const before = pendingTimeouts();
    const t = new Timer(2 ** 31 - 1, () => {}).start();
    // The timer's task starts its sleep in a microtask of its own.
    await flush();
    assert.equal(pendingTimeouts(), before + 1, 'the started timer holds one timeout');
    t.cancel();
    await flush();
    assert.equal(pendingTimeouts(), before, 'cancelling cleared it');
  });

  test('a cancelled timer records that its task ended', async () => {
    const seen: Message[] = [];
    const off = subscribe((m) => seen.push(m));
    try {
      const t = new Timer(2 ** 31 - 1, () => {}, { name: 'never' }).start();
      await flush();
      t.cancel();
      await flush();
      flushEvents();
    } finally {
      off();
    }
    const task = seen.find((m) => m.t === 'task' && m.name === 'never');
    assert.ok(task?.t === 'task', 'the timer’s task is registered under its name');
    const events = seen.flatMap((m) => (m.t === 'events' ? m.events : []));
    assert.ok(events.some((e) => e.op === 'task-start' && e.task === task.id));
    const end = events.find((e) => e.op === 'task-end' && e.task === task.id);
    assert.ok(end, 'its end is recorded');
    assert.equal(end.n ?? 0, 0, 'as a return, not a throw');
  });

  test('a timer starts once; a timer never started cannot be joined', async () => {
    const t = new Timer(0, () => {});
    assert.throws(() => t.join(), LockMisuseError);
    t.start();
    assert.throws(() => t.start(), /can be started only once/);
    await t.join();
    assert.throws(() => t.start(), LockMisuseError, 'not after it fired either');
  });

  test('a timer cancelled before it was started stays cancelled when started', async () => {
    let calls = 0;
    const t = new Timer(0, () => calls++);
    assert.equal(t.cancel(), true);
    assert.equal(t.start(), t);
    assert.equal(await t.join(), undefined);
    await sleep(5);
    assert.equal(calls, 0);
    assert.equal(t.state, 'cancelled');
  });

  test('join takes a timeout and checks its options', async () => {
    const t = new Timer(2 ** 31 - 1, () => {}).start();
    try {
      assert.throws(() => t.join({ timeout: -1 }), TypeError);
      await rejectsTimeout(t.join({ timeout: 5 }), 5);
      assert.equal(t.state, 'waiting', 'a join that gave up leaves the timer running');
    } finally {
      t.cancel();
    }
  });
});
