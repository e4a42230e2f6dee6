// Channel as Python's JoinableQueue: taskDone() marks a received value done, join() waits for all.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Channel,
  flushEvents,
  LockMisuseError,
  select,
  spawn,
  subscribe,
  type Message,
} from '../../runtime-probe/src/index.js';
import { MISUSE_CODES, WAIT_JOIN } from '../../runtime-probe/src/protocol.js';
import { flush, rejectsAbort, rejectsTimeout, watch } from './helpers.js';

/** Receives one value, which must be there. */
async function take<T>(ch: Channel<T>): Promise<T> {
  const r = await ch.recv();
  assert.ok(r.ok, 'a value was expected');
  return r.value;
}

describe('Channel join and taskDone', () => {
  test('join resolves at once when nothing was sent', async () => {
    const ch = new Channel<number>(2);
    assert.equal(ch.unfinished, 0);
    const joined = watch(ch.join());
    await flush();
    assert.equal(joined.settled(), true);
    assert.equal(ch.blockedJoiners, 0);
  });

  test('join waits until every value sent has been marked done', async () => {
    const ch = new Channel<number>(3);
    for (const v of [1, 2, 3]) await ch.send(v);
    assert.equal(ch.unfinished, 3);
    const joined = watch(ch.join());
    for (let i = 0; i < 3; i++) await take(ch);
    ch.taskDone();
    ch.taskDone();
    await flush();
    assert.equal(joined.settled(), false, 'one value is not done yet');
    assert.equal(ch.blockedJoiners, 1);
    assert.equal(ch.unfinished, 1);
    ch.taskDone();
    await joined.promise;
    assert.equal(ch.unfinished, 0);
    assert.equal(ch.blockedJoiners, 0);
  });

  test('a value still buffered is unfinished: join waits for it to be received and done', async () => {
    const ch = new Channel<string>(2);
    await ch.send('a');
    await ch.send('b');
    await take(ch);
    ch.taskDone();
    const joined = watch(ch.join());
    await flush();
    assert.equal(joined.settled(), false);
    assert.equal(ch.unfinished, 1);
    assert.equal(await take(ch), 'b');
    ch.taskDone();
    await joined.promise;
  });

  test('workers over a rendezvous channel: join returns after the last one is done', async () => {
    const ch = new Channel<number>();
    const log: string[] = [];
    const workers = [1, 2].map((id) =>
      spawn(`worker ${id}`, async () => {
        for await (const v of ch) {
          await flush();
          log.push(`done ${v}`);
          ch.taskDone();
        }
      }),
    );
    for (const v of [1, 2, 3, 4]) await ch.send(v);
    await ch.join();
    log.push('joined');
    assert.deepEqual(log.slice(0, 4).sort(), ['done 1', 'done 2', 'done 3', 'done 4']);
    assert.equal(log[4], 'joined', 'join returned only after every value was done');
    ch.close();
    await Promise.all(workers.map((w) => w.join()));
  });

  test('a blocked sender’s value counts once the channel has taken it', async () => {
    const ch = new Channel<number>(1);
    await ch.send(1);
    const blocked = watch(ch.send(2));
    await flush();
    assert.equal(ch.unfinished, 1, 'the blocked send has not been taken yet');
    assert.equal(await take(ch), 1);
    await blocked.promise;
    assert.equal(ch.unfinished, 2, 'its value moved into the freed slot');
  });

  test('select sends and receives count as plain ones do', async () => {
    const ch = new Channel<number>(1);
    await select([{ send: ch, value: 5 }]);
    assert.equal(ch.unfinished, 1);
    const joined = watch(ch.join());
    const r = await select([{ recv: ch }]);
    assert.deepEqual([r.ok, r.value], [true, 5]);
    ch.taskDone();
    await joined.promise;
    // A select parked on a receive takes a value sent later.
    const parked = select([{ recv: ch }]);
    await flush();
    await ch.send(6);
    assert.equal((await parked).value, 6);
    ch.taskDone();
    assert.equal(ch.unfinished, 0);
  });

  test('taskDone() beyond the values received throws LockMisuseError and is recorded', async () => {
    const seen: Message[] = [];
    const off = subscribe((m) => seen.push(m));
    const ch = new Channel<number>(2, { name: 'work' });
    try {
      assert.throws(() => ch.taskDone(), LockMisuseError, 'nothing was received');
      await ch.send(1);
      assert.throws(
        () => ch.taskDone(),
        /work\.taskDone\(\) was called more times than values were received/,
        'a value sent but still buffered cannot be marked done',
      );
      await take(ch);
      ch.taskDone();
      assert.throws(() => ch.taskDone(), LockMisuseError);
      assert.equal(ch.unfinished, 0, 'the refused calls changed nothing');
      flushEvents();
    } finally {
      off();
    }
    const events = seen.flatMap((m) => (m.t === 'events' ? m.events : []));
    const misuses = events.filter((e) => e.op === 'misuse');
    assert.equal(misuses.length, 3);
    for (const e of misuses) assert.equal(MISUSE_CODES[e.n ?? 0], 'extra-task-done');
  });

  test('a waiting join is recorded as a wait that a wake ends', async () => {
    const seen: Message[] = [];
    const off = subscribe((m) => seen.push(m));
    const ch = new Channel<number>(1, { name: 'recorded' });
    let id = -1;
    try {
      await ch.send(1);
      const joined = ch.join();
      await take(ch);
      ch.taskDone();
      await joined;
      flushEvents();
      const res = seen.find((m) => m.t === 'resource' && m.name === 'recorded');
      assert.ok(res?.t === 'resource', 'the channel is registered');
      id = res.id;
    } finally {
      off();
    }
    const ops = seen
      .flatMap((m) => (m.t === 'events' ? m.events : []))
      .filter((e) => e.res === id)
      .map((e) => (e.op === 'wait' ? `wait ${e.n}` : e.op === 'add' ? `add ${e.n}` : e.op));
    assert.deepEqual(ops, ['send', `wait ${WAIT_JOIN}`, 'receive', 'add -1', 'wake']);
  });

  test('closing does not end a join: buffered values can still be received and done', async () => {
    const ch = new Channel<number>(2);
    await ch.send(1);
    ch.close();
    const joined = watch(ch.join());
    await flush();
    assert.equal(joined.settled(), false);
    assert.equal(await take(ch), 1);
    ch.taskDone();
    await joined.promise;
  });

  test('join checks its options, and gives up on a timeout or an abort', async () => {
    const ch = new Channel<number>(1);
    assert.throws(() => ch.join({ timeout: -1 }), TypeError);
    await ch.send(1);
    await rejectsTimeout(ch.join({ timeout: 0 }), 0);
    await rejectsTimeout(ch.join({ timeout: 5 }), 5);
    assert.equal(ch.blockedJoiners, 0, 'a join that gave up no longer waits');
    const controller = new AbortController();
    const aborted = ch.join({ signal: controller.signal });
    controller.abort('stop');
    await rejectsAbort(aborted, 'stop');
    const already = new AbortController();
    already.abort('before');
    await rejectsAbort(ch.join({ signal: already.signal }), 'before');
    assert.equal(ch.unfinished, 1);
  });
});
