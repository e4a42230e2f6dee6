// Semantics of spawn/join, sleep, currentTaskId, and the error classes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AbortError,
  BrokenBarrierError,
  ChannelClosedError,
  DeadlockError,
  LockMisuseError,
  LockscopeError,
  Task,
  TimeoutError,
  currentTaskId,
  sleep,
  spawn,
} from '../../runtime-probe/src/index.js';
import { flush, rejectsAbort, rejectsTimeout, watch } from './helpers.js';

/** A promise the test resolves by hand. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('spawn and join', () => {
  test('join resolves to the return value', async () => {
    const g = gate();
    const t = spawn('worker', async () => {
      await g.promise;
      return { answer: 42 };
    });
    assert.ok(t instanceof Task);
    assert.equal(t.name, 'worker');
    assert.equal(typeof t.id, 'number');
    assert.equal(t.state, 'running');
    const joined = watch(t.join());
    await flush();
    assert.equal(joined.settled(), false, 'join waits for the task');
    g.open();
    assert.deepEqual(await joined.promise, { answer: 42 });
    assert.equal(t.state, 'returned');
  });

  test('a synchronous function works too', async () => {
    const t = spawn('sync', () => 'done');
    assert.equal(await t.join(), 'done');
  });

  test('join rejects with the error the task threw', async () => {
    const boom = new Error('task failed');
    const t = spawn('failing', async () => {
      await flush();
      throw boom;
    });
    await assert.rejects(t.join(), (err: unknown) => err === boom);
    assert.equal(t.state, 'threw');
    // Joining again gives the same error.
    await assert.rejects(t.join(), (err: unknown) => err === boom);
  });

  test('every joiner gets the result, also after the task ended', async () => {
    const g = gate();
    const t = spawn('shared', async () => {
      await g.promise;
      return 'result';
    });
    const early = [t.join(), t.join()];
    g.open();
    assert.deepEqual(await Promise.all(early), ['result', 'result']);
    assert.equal(await t.join(), 'result');
    assert.equal(await t.join({ timeout: 0 }), 'result');
  });

  test('join times out with TimeoutError; the task keeps running and can be joined later', async () => {
    const g = gate();
    const t = spawn('slow', async () => {
      await g.promise;
      return 1;
    });
    await rejectsTimeout(t.join({ timeout: 20 }), 20);
    await rejectsTimeout(t.join({ timeout: 0 }), 0);
    assert.equal(t.state, 'running');
    g.open();
    assert.equal(await t.join(), 1);
  });

  test('aborting a join rejects AbortError; an already-aborted signal rejects even when done', async () => {
    const g = gate();
    const t = spawn('abortable', async () => {
      await g.promise;
      return 2;
    });
    const ac = new AbortController();
    const reason = new Error('stop waiting');
    const j = t.join({ signal: ac.signal });
    ac.abort(reason);
    await rejectsAbort(j, reason);
    g.open();
    assert.equal(await t.join(), 2);
    await rejectsAbort(t.join({ signal: AbortSignal.abort(reason) }), reason);
  });

  test('each task has its own id, seen by currentTaskId inside it', async () => {
    const outside = currentTaskId();
    const a = spawn('a', async () => {
      await flush();
      const inner = spawn('a/child', () => currentTaskId());
      return { self: currentTaskId(), child: await inner.join(), childId: inner.id };
    });
    const b = spawn('b', () => currentTaskId());
    const ra = await a.join();
    const rb = await b.join();
    assert.equal(ra.self, a.id);
    assert.equal(rb, b.id);
    assert.equal(ra.child, ra.childId);
    assert.equal(new Set([outside, a.id, b.id, ra.childId]).size, 4);
  });

  test('spawn checks its arguments', () => {
    assert.throws(() => spawn(1 as unknown as string, () => 0), TypeError);
    assert.throws(() => spawn('x', 'not a function' as unknown as () => number), TypeError);
  });

  test('a task that throws and is never joined reports the error on stderr', async (t) => {
    const written: string[] = [];
    t.mock.method(process.stderr, 'write', (chunk: unknown) => {
      written.push(String(chunk));
      return true;
    });
    let text: string;
    try {
      const joined = spawn('joined', async () => {
        await flush();
        throw new Error('seen by join');
      });
      const joinedResult = joined.join();
      spawn('lonely', async () => {
        await flush();
        throw new Error('nobody joins me');
      });
      spawn('lonely-sync', () => {
        throw new Error('sync and alone');
      });
      await assert.rejects(joinedResult, /seen by join/);
      await flush();
      await flush();
    } finally {
      t.mock.restoreAll();
      text = written.join('');
    }
    assert.match(text, /task "lonely" threw and was not joined/);
    assert.match(text, /nobody joins me/);
    assert.match(text, /task "lonely-sync" threw and was not joined/);
    assert.doesNotMatch(text, /seen by join/);
  });

  test('a function that throws synchronously, joined at once, reports nothing on stderr', async (t) => {
    const written: string[] = [];
    t.mock.method(process.stderr, 'write', (chunk: unknown) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const boom = new Error('sync throw');
      const task = spawn('sync-thrower', () => {
        throw boom;
      });
      assert.equal(task.state, 'threw', 'the task ended inside spawn()');
      await assert.rejects(task.join(), (err: unknown) => err === boom);
      await flush();
    } finally {
      t.mock.restoreAll();
    }
    assert.deepEqual(
      written.filter((w) => w.includes('sync-thrower')),
      [],
      'a task joined in the same synchronous run as spawn() counts as joined',
    );
  });
});

describe('sleep', () => {
  test('sleep resolves after the delay', async () => {
    let done = false;
    const p = sleep(20).then(() => {
      done = true;
    });
    // Only microtasks here, so the timer cannot have fired yet.
    for (let i = 0; i < 10; i++) await Promise.resolve();
    assert.equal(done, false);
    await p;
    assert.equal(done, true);
  });

  test('sleep rejects AbortError when aborted, with the reason as cause', async () => {
    const ac = new AbortController();
    const reason = new Error('wake up');
    const p = sleep(60_000, { signal: ac.signal });
    await flush();
    ac.abort(reason);
    await rejectsAbort(p, reason);
  });

  test('sleep with an already-aborted signal rejects', async () => {
    await rejectsAbort(sleep(0, { signal: AbortSignal.abort('pre') }), 'pre');
  });

  test('an abort after sleep has resolved does nothing', async () => {
    const ac = new AbortController();
    await sleep(1, { signal: ac.signal });
    ac.abort();
    assert.equal(ac.signal.aborted, true);
  });

  test('sleep checks ms', () => {
    assert.throws(() => void sleep(-1), TypeError);
    assert.throws(() => void sleep(Number.NaN), TypeError);
  });
});

describe('errors', () => {
  test('every error class is an Error and a LockscopeError, with its own name', () => {
    const cases: [LockscopeError, string][] = [
      [new TimeoutError('t', 5), 'TimeoutError'],
      [new AbortError(), 'AbortError'],
      [new BrokenBarrierError('b'), 'BrokenBarrierError'],
      [new ChannelClosedError('c'), 'ChannelClosedError'],
      [new LockMisuseError('l'), 'LockMisuseError'],
      [new DeadlockError('d'), 'DeadlockError'],
      [new LockscopeError('base'), 'LockscopeError'],
    ];
    for (const [err, name] of cases) {
      assert.ok(err instanceof Error, name);
      assert.ok(err instanceof LockscopeError, name);
      assert.equal(err.name, name);
    }
    assert.ok(new TimeoutError('t', 5) instanceof TimeoutError);
    assert.ok(!(new TimeoutError('t', 5) instanceof AbortError));
    assert.ok(!(new AbortError() instanceof TimeoutError));
    assert.ok(!(new LockscopeError('base') instanceof LockMisuseError));
    assert.ok(!(new Error('plain') instanceof LockscopeError));
    assert.ok(!((null as unknown) instanceof LockscopeError));
    assert.equal(new TimeoutError('t', 5).timeoutMs, 5);
  });

  test('AbortError has a default message and carries its cause', () => {
    const reason = { why: 'x' };
    const err = new AbortError(undefined, { cause: reason });
    assert.equal(err.message, 'The operation was aborted');
    assert.equal(err.cause, reason);
    assert.equal(err.name, 'AbortError');
  });

  test('errors thrown by the primitives are instances of their classes', async () => {
    const t = spawn('err', async () => {
      await sleep(60_000, { signal: AbortSignal.timeout(1) });
    });
    await assert.rejects(t.join(), (err: unknown) => {
      assert.ok(err instanceof AbortError);
      assert.ok(err instanceof LockscopeError);
      assert.ok(err instanceof Error);
      assert.ok(!(err instanceof TimeoutError));
      assert.ok(err.cause instanceof Error);
      return true;
    });
  });
});
