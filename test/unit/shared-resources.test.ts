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
    feed(a, s2, two.ev(4, 'request', 1, 21, 20));
    assert.deepEqual(
      a.findings.map((f) => f.kind),
      ['deadlock'],
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
