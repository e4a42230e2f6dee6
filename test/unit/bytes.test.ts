/**
 * The batch encoding written straight into bytes (bytes.ts, batch.ts): numbers as JSON writes
 * them, text in UTF-8, and a recorded batch's bytes saying exactly what its messages say.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ByteWriter, putUint } from '../../runtime-probe/src/bytes.js';
import {
  Channel,
  flushEvents,
  Mutex,
  RWLock,
  Semaphore,
  spawn,
} from '../../runtime-probe/src/index.js';
import { attachSink } from '../../runtime-probe/src/recorder.js';
import type { Message } from '../../runtime-probe/src/protocol.js';
import type { Batch, Sink } from '../../runtime-probe/src/runtime.js';

const decode = (w: ByteWriter): string => new TextDecoder().decode(w.view());

describe('ByteWriter', () => {
  it('writes every number as JSON.stringify does', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.maxSafeInteger(), fc.integer(), fc.double(), fc.constant(-0)),
        (x) => {
          const w = new ByteWriter(1);
          w.number(x);
          assert.equal(decode(w), JSON.stringify(x));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('writes text in UTF-8, grows as it must, and starts again after reset', () => {
    const w = new ByteWriter(4);
    w.text('fork «ü» 🍴 ');
    w.number(2 ** 53 - 1);
    assert.equal(decode(w), 'fork «ü» 🍴 9007199254740991');
    w.reset();
    w.raw(new TextEncoder().encode('{"a":'));
    w.number(-12);
    w.raw(new TextEncoder().encode('}'));
    assert.equal(decode(w), '{"a":-12}');
  });
});

describe("a batch's bytes", () => {
  it('are the JSON lines of its messages, event for event', async () => {
    const batches: { messages: Message[]; text: string }[] = [];
    const sink: Sink = {
      kind: 'test',
      target: 'test',
      takesForwarded: false,
      write(batch: Batch) {
        batches.push({
          messages: structuredClone(batch.messages()),
          text: new TextDecoder().decode(batch.bytes()),
        });
      },
      control() {},
      close() {},
      stats: () => ({
        kind: 'test',
        target: 'test',
        sent: 0,
        dropped: 0,
        inFlight: 0,
        error: undefined,
      }),
    };
    const detach = attachSink(sink);
    try {
      const m = new Mutex({ name: 'bytes «m»' });
      const rw = new RWLock();
      const permits = new Semaphore(2);
      const ch = new Channel<number>(1);
      const tasks = [0, 1, 2].map((i) =>
        spawn(`worker ${i}`, async () => {
          using g = await m.acquire();
          using r = await rw.read();
          using p = await permits.acquire();
          await ch.send(i);
          void [g, r, p];
        }),
      );
      // The same event again and again: its tail is copied whole after the second time.
      for (let i = 0; i < 100; i++) m.tryAcquire()?.release();
      for (let i = 0; i < 3; i++) await ch.recv();
      ch.close();
      assert.equal((await ch.recv()).ok, false, 'a receive from a closed channel (n = -1)');
      await Promise.all(tasks.map((t) => t.join()));
      flushEvents();
    } finally {
      detach();
    }
    const events = batches.flatMap((b) => b.messages).filter((x) => x.t === 'events');
    const all = events.flatMap((e) => e.events);
    assert.ok(all.some((x) => x.n === 1) && all.some((x) => x.n === -1), 'n of both signs');
    for (const b of batches) {
      const lines = b.text.split('\n');
      assert.equal(lines.pop(), '', 'every line ends with a newline');
      assert.deepEqual(
        lines.map((l) => JSON.parse(l) as unknown),
        b.messages,
      );
    }
  });
});

describe('putUint', () => {
  it('writes every non-negative safe integer as String does, at any offset', () => {
    fc.assert(
      fc.property(fc.oneof(fc.maxSafeNat(), fc.nat(1000), fc.nat(2 ** 32)), fc.nat(8), (v, at) => {
        const b = new Uint8Array(32);
        const end = putUint(b, at, v);
        assert.equal(new TextDecoder().decode(b.subarray(at, end)), String(v));
      }),
      { numRuns: 5_000 },
    );
  });
});
