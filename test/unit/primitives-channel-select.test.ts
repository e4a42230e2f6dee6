// Semantics of Channel (Go channels: rendezvous, buffered, close) and select().
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Channel,
  ChannelClosedError,
  LockscopeError,
  spawn,
  select,
} from '../../runtime-probe/src/index.js';
import { flush, rejectsAbort, rejectsTimeout, watch } from './helpers.js';

async function rejectsClosed(p: Promise<unknown>): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ChannelClosedError, `expected ChannelClosedError, got ${String(err)}`);
    assert.ok(err instanceof LockscopeError);
    assert.equal(err.name, 'ChannelClosedError');
    return true;
  });
}

const CLOSED = { ok: false, value: undefined };

describe('Channel', () => {
  test('the constructor checks the capacity', () => {
    assert.throws(() => new Channel(-1), TypeError);
    assert.throws(() => new Channel(1.5), TypeError);
    assert.equal(new Channel().capacity, 0);
    assert.equal(new Channel(Infinity).capacity, Infinity);
    const ch = new Channel<number>(3, { name: 'jobs' });
    assert.equal(ch.name, 'jobs');
    assert.equal(ch.closed, false);
    assert.equal(ch.length, 0);
  });

  test('rendezvous: send resolves only after a receiver has taken the value', async () => {
    const ch = new Channel<string>();
    const sent = watch(ch.send('hello'));
    await flush();
    assert.equal(sent.settled(), false);
    assert.equal(ch.blockedSenders, 1);
    assert.equal(ch.length, 0, 'a rendezvous channel buffers nothing');
    assert.deepEqual(await ch.recv(), { ok: true, value: 'hello' });
    await sent.promise;
    assert.equal(ch.blockedSenders, 0);
  });

  test('rendezvous: a waiting receiver takes the value and the send resolves at once', async () => {
    const ch = new Channel<number>();
    const got = watch(ch.recv());
    await flush();
    assert.equal(got.settled(), false);
    assert.equal(ch.blockedReceivers, 1);
    await ch.send(7);
    assert.deepEqual(await got.promise, { ok: true, value: 7 });
    assert.equal(ch.blockedReceivers, 0);
  });

  test('rendezvous: blocked senders and receivers are served in FIFO order', async () => {
    const ch = new Channel<number>();
    const sends = [1, 2, 3].map((v) => ch.send(v));
    const values: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await ch.recv();
      assert.ok(r.ok);
      values.push(r.value);
    }
    await Promise.all(sends);
    assert.deepEqual(values, [1, 2, 3]);

    const recvs = [ch.recv(), ch.recv(), ch.recv()];
    await flush();
    for (const v of [4, 5, 6]) await ch.send(v);
    assert.deepEqual(await Promise.all(recvs), [
      { ok: true, value: 4 },
      { ok: true, value: 5 },
      { ok: true, value: 6 },
    ]);
  });

  test('buffered: sends complete until the buffer is full, then wait for room', async () => {
    const ch = new Channel<number>(2);
    await ch.send(1);
    await ch.send(2);
    assert.equal(ch.length, 2);
    const third = watch(ch.send(3));
    await flush();
    assert.equal(third.settled(), false);
    assert.equal(ch.blockedSenders, 1);
    assert.deepEqual(await ch.recv(), { ok: true, value: 1 });
    await third.promise;
    assert.equal(ch.length, 2, 'the blocked value moved into the freed slot');
    assert.deepEqual(await ch.recv(), { ok: true, value: 2 });
    assert.deepEqual(await ch.recv(), { ok: true, value: 3 });
    assert.equal(ch.length, 0);
  });

  test('an unbounded channel never blocks a sender', async () => {
    const ch = new Channel<number>(Infinity);
    for (let i = 0; i < 100; i++) await ch.send(i, { timeout: 0 });
    assert.equal(ch.length, 100);
    assert.deepEqual(await ch.recv(), { ok: true, value: 0 });
  });

  test('trySend and tryRecv', async () => {
    const ch = new Channel<number>(1);
    assert.deepEqual(ch.tryRecv(), CLOSED);
    assert.equal(ch.closed, false, 'ok: false from tryRecv does not mean closed');
    assert.equal(ch.trySend(1), true);
    assert.equal(ch.trySend(2), false);
    assert.equal(ch.length, 1);
    assert.deepEqual(ch.tryRecv(), { ok: true, value: 1 });
    assert.deepEqual(ch.tryRecv(), CLOSED);

    const rv = new Channel<number>();
    assert.equal(rv.trySend(1), false, 'no receiver waits on the rendezvous channel');
    const got = rv.recv();
    await flush();
    assert.equal(rv.trySend(2), true);
    assert.deepEqual(await got, { ok: true, value: 2 });
    const sent = watch(rv.send(3));
    await flush();
    assert.deepEqual(rv.tryRecv(), { ok: true, value: 3 }, 'tryRecv takes from a blocked sender');
    await sent.promise;
  });

  test('close: recv drains the buffer, then resolves { ok: false } every time', async () => {
    const ch = new Channel<number>(3);
    await ch.send(1);
    await ch.send(2);
    ch.close();
    assert.equal(ch.closed, true);
    assert.deepEqual(await ch.recv(), { ok: true, value: 1 });
    assert.deepEqual(ch.tryRecv(), { ok: true, value: 2 });
    assert.deepEqual(await ch.recv(), CLOSED);
    assert.deepEqual(await ch.recv(), CLOSED);
    assert.deepEqual(ch.tryRecv(), CLOSED);
  });

  test('close: send rejects, trySend throws, and a second close throws ChannelClosedError', async () => {
    const ch = new Channel<number>(3);
    ch.close();
    await rejectsClosed(ch.send(1));
    assert.throws(() => ch.trySend(1), ChannelClosedError);
    assert.throws(
      () => ch.close(),
      (err: unknown) => err instanceof ChannelClosedError && err instanceof LockscopeError,
    );
    assert.equal(ch.length, 0, 'nothing was buffered');
  });

  test('close wakes blocked receivers with ok: false and rejects blocked senders', async () => {
    const rx = new Channel<number>();
    const recvs = [rx.recv(), rx.recv()];
    await flush();
    rx.close();
    assert.deepEqual(await Promise.all(recvs), [CLOSED, CLOSED]);
    assert.equal(rx.blockedReceivers, 0);

    const tx = new Channel<number>();
    const sends = [tx.send(1), tx.send(2)];
    await flush();
    tx.close();
    for (const s of sends) await rejectsClosed(s);
    assert.equal(tx.blockedSenders, 0);
    assert.deepEqual(await tx.recv(), CLOSED, 'the rejected values were not delivered');
  });

  test('close with a full buffer rejects the blocked sender but keeps the buffer', async () => {
    const ch = new Channel<number>(1);
    await ch.send(1);
    const blocked = ch.send(2);
    await flush();
    ch.close();
    await rejectsClosed(blocked);
    assert.deepEqual(await ch.recv(), { ok: true, value: 1 });
    assert.deepEqual(await ch.recv(), CLOSED);
  });

  test('async iteration receives every value and ends when the channel is closed', async () => {
    const ch = new Channel<number>(2);
    const producer = (async () => {
      for (let i = 1; i <= 5; i++) await ch.send(i);
      ch.close();
    })();
    const seen: number[] = [];
    for await (const v of ch) seen.push(v);
    await producer;
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  });

  test('send and recv time out with TimeoutError and leave nothing behind', async () => {
    const ch = new Channel<number>();
    await rejectsTimeout(ch.recv({ timeout: 20 }), 20);
    assert.equal(ch.blockedReceivers, 0);
    await rejectsTimeout(ch.send(1, { timeout: 20 }), 20);
    assert.equal(ch.blockedSenders, 0);
    assert.deepEqual(ch.tryRecv(), CLOSED, 'the timed-out value is not delivered later');
    assert.equal(ch.trySend(2), false, 'the timed-out receiver does not take a value later');
  });

  test('timeout: 0 rejects when the operation cannot complete at once', async () => {
    const ch = new Channel<number>(1);
    await rejectsTimeout(ch.recv({ timeout: 0 }), 0);
    assert.equal(ch.blockedReceivers, 0);
    await ch.send(1, { timeout: 0 });
    await rejectsTimeout(ch.send(2, { timeout: 0 }), 0);
    assert.equal(ch.blockedSenders, 0);
    assert.deepEqual(await ch.recv({ timeout: 0 }), { ok: true, value: 1 });
    assert.equal(ch.length, 0);
  });

  test('aborting a pending send or recv rejects AbortError with the reason', async () => {
    const ch = new Channel<number>();
    const ac = new AbortController();
    const reason = new Error('stop');
    const r = ch.recv({ signal: ac.signal });
    ac.abort(reason);
    await rejectsAbort(r, reason);
    const ac2 = new AbortController();
    const s = ch.send(1, { signal: ac2.signal });
    ac2.abort('stop send');
    await rejectsAbort(s, 'stop send');
    assert.equal(ch.blockedSenders, 0);
    assert.equal(ch.blockedReceivers, 0);
    assert.deepEqual(ch.tryRecv(), CLOSED);
  });

  test('an already-aborted signal rejects send and recv even when they could complete', async () => {
    const ch = new Channel<number>(1);
    const reason = 'pre';
    await rejectsAbort(ch.send(1, { signal: AbortSignal.abort(reason) }), reason);
    assert.equal(ch.length, 0, 'the value was not sent');
    await ch.send(2);
    await rejectsAbort(ch.recv({ signal: AbortSignal.abort(reason) }), reason);
    assert.equal(ch.length, 1, 'the value was not received');
  });

  test('an unbounded channel keeps FIFO order across buffer compaction', () => {
    const ch = new Channel<number>(Infinity);
    const got: number[] = [];
    let next = 0;
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 700; i++) assert.equal(ch.trySend(next++), true);
      for (let i = 0; i < 500; i++) {
        const r = ch.tryRecv();
        assert.ok(r.ok);
        got.push(r.value);
      }
    }
    for (let r = ch.tryRecv(); r.ok; r = ch.tryRecv()) got.push(r.value);
    assert.deepEqual(
      got,
      Array.from({ length: 7000 }, (_, i) => i),
    );
  });
});

describe('select', () => {
  test('a ready recv case fires at once', async () => {
    const a = new Channel<number>(1);
    const b = new Channel<number>(1);
    await b.send(5);
    assert.deepEqual(await select([{ recv: a }, { recv: b }]), { index: 1, ok: true, value: 5 });
    assert.equal(b.length, 0);
  });

  test('a ready send case fires at once', async () => {
    const full = new Channel<number>(1);
    await full.send(0);
    const room = new Channel<number>(1);
    const r = await select([
      { send: full, value: 1 },
      { send: room, value: 2 },
    ]);
    assert.deepEqual(r, { index: 1, ok: true, value: undefined });
    assert.deepEqual(room.tryRecv(), { ok: true, value: 2 });
    assert.equal(full.length, 1);
  });

  test('exactly one of several ready cases fires, chosen at random', async () => {
    const seen = new Set<number>();
    for (let i = 0; i < 100; i++) {
      const a = new Channel<string>(1);
      const b = new Channel<string>(1);
      await a.send('a');
      await b.send('b');
      const r = await select([{ recv: a }, { recv: b }]);
      seen.add(r.index);
      assert.equal(a.length + b.length, 1, 'exactly one value was taken');
      assert.equal(r.value, r.index === 0 ? 'a' : 'b');
      assert.equal((r.index === 0 ? a : b).length, 0);
    }
    assert.deepEqual([...seen].sort(), [0, 1], 'both cases fire over many rounds');
  });

  test('a blocked select fires on the first channel that becomes ready, and only that one', async () => {
    const a = new Channel<number>();
    const b = new Channel<number>();
    const sel = watch(select([{ recv: a }, { recv: b }]));
    await flush();
    assert.equal(sel.settled(), false);
    assert.equal(a.blockedReceivers, 1);
    assert.equal(b.blockedReceivers, 1);
    await b.send(9);
    assert.deepEqual(await sel.promise, { index: 1, ok: true, value: 9 });
    assert.equal(a.blockedReceivers, 0, 'the other case was withdrawn');
    assert.equal(a.trySend(1), false, 'nobody receives on a any more');
  });

  test('a blocked send case fires when a receiver arrives', async () => {
    const out = new Channel<string>();
    const inbox = new Channel<string>();
    const sel = watch(select([{ recv: inbox }, { send: out, value: 'x' }]));
    await flush();
    assert.equal(sel.settled(), false);
    assert.equal(out.blockedSenders, 1);
    assert.deepEqual(await out.recv(), { ok: true, value: 'x' });
    assert.deepEqual(await sel.promise, { index: 1, ok: true, value: undefined });
    assert.equal(inbox.blockedReceivers, 0);
    assert.equal(inbox.trySend('late'), false);
  });

  test('the default case resolves index -1 when nothing is ready', async () => {
    const a = new Channel<number>();
    const b = new Channel<number>(1);
    await b.send(1);
    const r = await select([{ recv: a }, { send: b, value: 2 }], { default: true });
    assert.deepEqual(r, { index: -1, ok: false, value: undefined });
    assert.equal(a.blockedReceivers, 0);
    assert.equal(b.blockedSenders, 0);
    assert.equal(b.length, 1);
    // With a ready case, the default does not fire.
    const r2 = await select([{ recv: a }, { recv: b }], { default: true });
    assert.deepEqual(r2, { index: 1, ok: true, value: 1 });
  });

  test('select times out with TimeoutError and withdraws every case', async () => {
    const a = new Channel<number>();
    const b = new Channel<number>();
    await rejectsTimeout(select([{ recv: a }, { send: b, value: 1 }], { timeout: 20 }), 20);
    assert.equal(a.blockedReceivers, 0);
    assert.equal(b.blockedSenders, 0);
    assert.equal(a.trySend(1), false);
    assert.deepEqual(b.tryRecv(), CLOSED);
  });

  test('timeout: 0 rejects when nothing is ready and fires a ready case', async () => {
    const a = new Channel<number>(1);
    await rejectsTimeout(select([{ recv: a }], { timeout: 0 }), 0);
    assert.equal(a.blockedReceivers, 0);
    await a.send(3);
    assert.deepEqual(await select([{ recv: a }], { timeout: 0 }), {
      index: 0,
      ok: true,
      value: 3,
    });
  });

  test('aborting a blocked select rejects AbortError and withdraws every case', async () => {
    const a = new Channel<number>();
    const ac = new AbortController();
    const reason = new Error('cancel select');
    const p = select([{ recv: a }, { send: a, value: 1 }], { signal: ac.signal });
    await flush();
    ac.abort(reason);
    await rejectsAbort(p, reason);
    assert.equal(a.blockedReceivers, 0);
    assert.equal(a.blockedSenders, 0);
  });

  test('an already-aborted signal rejects even when a case is ready', async () => {
    const a = new Channel<number>(1);
    await a.send(1);
    const reason = 'pre';
    await rejectsAbort(select([{ recv: a }], { signal: AbortSignal.abort(reason) }), reason);
    assert.equal(a.length, 1, 'the ready value was not taken');
  });

  test('closed channels: a recv case gets ok: false, a send case rejects', async () => {
    const closed = new Channel<number>();
    closed.close();
    assert.deepEqual(await select([{ recv: closed }]), { index: 0, ok: false, value: undefined });
    await rejectsClosed(select([{ send: closed, value: 1 }]));

    const r = new Channel<number>();
    const parkedRecv = select([{ recv: r }]);
    await flush();
    r.close();
    assert.deepEqual(await parkedRecv, { index: 0, ok: false, value: undefined });

    const s = new Channel<number>();
    const other = new Channel<number>();
    const parkedSend = select([{ recv: other }, { send: s, value: 1 }]);
    await flush();
    s.close();
    await rejectsClosed(parkedSend);
    assert.equal(other.blockedReceivers, 0);
  });

  test('select rejects a non-array', () => {
    assert.throws(() => void select('nope' as unknown as []), TypeError);
  });

  test('a select loop multiplexes two producers without losing or duplicating values', async () => {
    const a = new Channel<number>();
    const b = new Channel<number>(2);
    const out = new Channel<number>(1);
    const quit = new Channel<void>();
    const producers = [
      spawn('a', async () => {
        for (let i = 0; i < 100; i++) await a.send(i);
      }),
      spawn('b', async () => {
        for (let i = 100; i < 200; i++) await b.send(i);
      }),
    ];
    spawn('closer', async () => {
      await Promise.all(producers.map((t) => t.join()));
      quit.close();
    });
    const mux = spawn('mux', async () => {
      let n = 0;
      for (;;) {
        const r = await select([{ recv: a }, { recv: b }, { recv: quit }]);
        if (r.index === 2) break;
        assert.equal(r.ok, true);
        await out.send(r.value as number);
        n++;
      }
      // Values still buffered in b when quit was closed.
      for (let x = b.tryRecv(); x.ok; x = b.tryRecv()) {
        await out.send(x.value);
        n++;
      }
      out.close();
      return n;
    });
    const got: number[] = [];
    for await (const v of out) got.push(v);
    assert.equal(await mux.join(), 200);
    assert.deepEqual(
      got.filter((v) => v < 100),
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.deepEqual(
      got.filter((v) => v >= 100),
      Array.from({ length: 100 }, (_, i) => i + 100),
    );
  });
});
