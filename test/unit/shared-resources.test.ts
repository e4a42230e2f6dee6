// Locks a server keeps, registered by several processes under one global key: one resource in
// the analysis, so that a cycle between processes is one deadlock with each process's lines.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Analyzer } from '../../runtime-probe/src/analysis/engine.js';
import { MAX_GLOBAL_KEY, type Message } from '../../runtime-probe/src/protocol.js';
import { validateMessage } from '../../runtime-probe/src/validate.js';
import { TraceBuilder } from '../trace-builder.js';

/**
 * A process (its own pid) with one task and two server locks, `orders` and `stock`, registered
 * under ids of its own (`base + 1`, `base + 2`) and the given global keys.
 */
function service(
  pid: number,
  task: string,
  base: number,
  keys = ['orders', 'stock'],
): TraceBuilder {
  const b = new TraceBuilder(pid).task(1, task).site(10).site(20);
  keys.forEach((key, i) =>
    b.messages.push({
      t: 'resource',
      id: base + i + 1,
      kind: 'mutex',
      name: `redis "${key}"`,
      class: `redis "${key}"`,
      global: `redis:run-1:${key}`,
    }),
  );
  return b;
}

function feed(a: Analyzer, stream: object, b: TraceBuilder): void {
  b.text(); // ends the open batch
  for (const m of b.messages.splice(0)) a.accept(stream, m);
}

describe('resources shared by a global key', () => {
  test('two processes taking two server locks in opposite orders: one deadlock', () => {
    const a = new Analyzer();
    const [s1, s2] = [{}, {}];
    // Process 100 knows orders as 11 and stock as 12; process 200 knows them as 21 and 22.
    const one = service(100, 'restock', 10);
    const two = service(200, 'ship', 20);
    feed(a, s1, one.ev(0, 'acquired', 1, 11, 10));
    feed(a, s2, two.ev(1, 'acquired', 1, 22, 10));
    feed(a, s1, one.ev(2, 'request', 1, 12, 20));
    assert.equal(a.findings.length, 0, 'one wait is no cycle');
    feed(a, s2, two.ev(3, 'request', 1, 21, 20));
    assert.deepEqual(
      a.findings.map((f) => [f.kind, f.severity, f.certainty]),
      [['deadlock', 'error', 'exact']],
    );
    const [f] = a.findings;
    assert.deepEqual(f!.tasks.map((t) => [t.name, t.pid]).sort(), [
      ['restock', 100],
      ['ship', 200],
    ]);
    assert.deepEqual(f!.resources.map((r) => r.name).sort(), ['redis "orders"', 'redis "stock"']);
    // Each resource is listed once, with the process that registered it first.
    const report = a.report();
    assert.deepEqual(report.resources.map((r) => r.key).sort(), ['100:r11', '100:r12']);
  });

  test('the same names without a global key stay apart: no cycle', () => {
    const a = new Analyzer();
    const one = new TraceBuilder(100).task(1, 'restock').site(10);
    one.resource(11, 'mutex', 'orders').resource(12, 'mutex', 'stock');
    const two = new TraceBuilder(200).task(1, 'ship').site(10);
    two.resource(11, 'mutex', 'orders').resource(12, 'mutex', 'stock');
    feed(a, {}, one.ev(0, 'acquired', 1, 11, 10).ev(2, 'request', 1, 12, 10));
    feed(a, {}, two.ev(1, 'acquired', 1, 12, 10).ev(3, 'request', 1, 11, 10));
    assert.deepEqual(a.findings, []);
  });

  test("one process no longer reaching a shared lock does not forget another's hold", () => {
    const a = new Analyzer();
    const [s1, s2] = [{}, {}];
    const one = service(100, 'restock', 10);
    const two = service(200, 'ship', 20);
    feed(a, s1, one.ev(0, 'acquired', 1, 11, 10));
    feed(a, s2, two.ev(1, 'acquired', 1, 22, 10).ev(2, 'collected', 0, 21));
    feed(a, s1, one.ev(3, 'request', 1, 12, 20));
    // Ids are never reused: ship comes back to orders under a new one (as an adapter does).
    two.messages.push({
      t: 'resource',
      id: 23,
      kind: 'mutex',
      name: 'redis "orders"',
      class: 'redis "orders"',
      global: 'redis:run-1:orders',
    });
    feed(a, s2, two.ev(4, 'request', 1, 23, 20));
    assert.deepEqual(
      a.findings.map((f) => f.kind),
      ['deadlock'],
    );
  });

  test('a process that ended or was cut off holds and waits for nothing any more', () => {
    for (const ends of ['end', 'cut'] as const) {
      const a = new Analyzer();
      const [s1, s2] = [{}, {}];
      const one = service(100, 'restock', 10);
      const two = service(200, 'ship', 20);
      feed(a, s2, two.ev(0, 'acquired', 1, 22, 10));
      // restock holds orders and waits for stock; then its process is gone, and with its
      // connection the server let orders go.
      feed(a, s1, one.ev(1, 'acquired', 1, 11, 10).ev(2, 'request', 1, 12, 20));
      if (ends === 'end') {
        one.messages.push({
          t: 'end',
          ts: one.origin + 0.003,
          exitCode: 1,
          produced: 2,
          dropped: 0,
        });
        feed(a, s1, one);
      }
      a.endStream(s1);
      feed(a, s2, two.ev(5, 'request', 1, 21, 20));
      assert.deepEqual(a.findings, [], ends);
    }
  });

  test('a wait the other process may have been granted since: streams out of step, uncertain', () => {
    const a = new Analyzer();
    const [s1, s2] = [{}, {}];
    const one = service(100, 'restock', 10);
    const two = service(200, 'ship', 20);
    feed(a, s2, two.ev(0, 'acquired', 1, 22, 10));
    feed(a, s1, one.ev(1, 'acquired', 1, 11, 10).ev(2, 'request', 1, 12, 20));
    // ship lets stock go at 3; restock gets it at 4 and lets both go at 5 and 6, in a batch
    // that is late; ship takes stock again at 7 and asks for orders at 8, which it gets.
    feed(
      a,
      s2,
      two.ev(3, 'released', 1, 22).ev(7, 'acquired', 1, 22, 10).ev(8, 'request', 1, 21, 20),
    );
    assert.deepEqual(
      a.findings.map((f) => [f.kind, f.severity, f.certainty]),
      [['deadlock', 'warning', 'uncertain']],
    );
    feed(a, s1, one.ev(4, 'acquired', 1, 12, 20).ev(5, 'released', 1, 12).ev(6, 'released', 1, 11));
  });

  test("one process's idleness says nothing of a wait another process can end", () => {
    const a = new Analyzer();
    const [s1, s2] = [{}, {}];
    const one = service(100, 'restock', 10);
    const two = service(200, 'ship', 20);
    feed(a, s1, one.ev(0, 'acquired', 1, 11, 10));
    two.ev(1, 'request', 1, 21, 20).text();
    two.messages.push({ t: 'idle', ts: two.origin + 0.002 });
    feed(a, s2, two);
    assert.deepEqual(a.findings, []);
  });

  test('one key under many ids of one process: listed once, and the collected ids go', () => {
    const a = new Analyzer();
    const [s1, s2] = [{}, {}];
    const one = service(100, 'restock', 10, ['orders']);
    feed(a, s1, one.ev(0, 'acquired', 1, 11, 10).ev(1, 'released', 1, 11));
    const two = service(200, 'ship', 20, ['orders']);
    feed(a, s2, two.ev(2, 'acquired', 1, 21, 10).ev(3, 'released', 1, 21));
    // Each use registers the lock again under a new id, and the one before is collected.
    for (let i = 0; i < 50; i++) {
      for (const [b, s, base] of [
        [one, s1, 1000],
        [two, s2, 2000],
      ] as const) {
        const id = base + i;
        b.messages.push({
          t: 'resource',
          id,
          kind: 'mutex',
          name: 'redis "orders"',
          class: 'redis "orders"',
          global: 'redis:run-1:orders',
        });
        feed(a, s, b.ev(10 + i, 'acquired', 1, id, 10).ev(10 + i, 'released', 1, id));
        feed(a, s, b.ev(10 + i, 'collected', 0, id));
      }
    }
    const report = a.report();
    assert.deepEqual(
      report.resources.map((r) => r.key),
      ['100:r11'],
    );
    assert.deepEqual(
      report.stats.resources.map((r) => [r.key, r.acquisitions]),
      [['100:r11', 102]],
    );
  });

  test('a key registered as another kind is not joined, and findings become uncertain', () => {
    const a = new Analyzer();
    const [s1, s2] = [{}, {}];
    const one = service(100, 'restock', 10, ['orders', 'stock', 'audit']);
    const two = service(200, 'ship', 20, ['orders', 'stock', 'audit']);
    const audit = two.messages.find((m) => m.t === 'resource' && m.id === 23);
    if (audit?.t === 'resource') audit.kind = 'semaphore';
    feed(a, s1, one.ev(0, 'acquired', 1, 11, 10));
    feed(a, s2, two.ev(1, 'acquired', 1, 22, 10));
    feed(a, s1, one.ev(2, 'request', 1, 12, 20));
    feed(a, s2, two.ev(3, 'request', 1, 21, 20));
    // The cycle over orders and stock is found, but a stream that registered one key as two
    // kinds cannot be trusted whole.
    assert.deepEqual(
      a.findings.map((f) => [f.kind, f.certainty, f.uncertainty]),
      [['deadlock', 'uncertain', ['gap']]],
    );
  });

  test('a hold in another process than the first is scanned for a long hold', () => {
    // restock (100) registered orders first, took it, gave it back and ended; ship (200) then
    // holds it past the limit. Its hold must be on ship's own list of held locks.
    const a = new Analyzer({ longHoldMs: 1 });
    const [s1, s2] = [{}, {}];
    const one = service(100, 'restock', 10);
    const two = service(200, 'ship', 20);
    feed(a, s1, one.ev(0, 'acquired', 1, 11, 10).ev(10, 'released', 1, 11));
    feed(a, s2, two.ev(20, 'acquired', 1, 21, 10));
    feed(a, s1, one.end(30));
    a.endStream(s1);
    feed(a, s2, two.heartbeat(5_000));
    assert.deepEqual(
      a.findings.map((f) => [f.kind, f.tasks.map((t) => t.name)]),
      [['long-hold', ['ship']]],
    );
  });

  test('a global key is checked where it enters: a string of 1 to 512 characters', () => {
    const base: Message = { t: 'resource', id: 1, kind: 'mutex', name: 'm', class: 'm' };
    assert.equal(validateMessage({ ...base, global: 'pg:1:advisory:5:0:1:1' }).ok, true);
    for (const global of ['', 'x'.repeat(MAX_GLOBAL_KEY + 1), 7]) {
      const r = validateMessage({ ...base, global });
      assert.equal(r.ok, false);
      assert.match(r.ok ? '' : r.error, /resource\)\.global: expected a string of 1 to 512/);
    }
  });
});
