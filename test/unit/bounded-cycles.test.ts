// Cycles through waits that may give up (request-bounded, a join with n 1), judged on traces:
// never an error while a wait of them can still end by itself, and never lost.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyzeTrace } from '../../runtime-probe/src/analysis/trace.js';
import { TraceBuilder, twoLocks } from '../trace-builder.js';

/** `kind/pattern/severity` of each finding. */
function judged(b: TraceBuilder): string[] {
  return analyzeTrace(b.text()).findings.map((f) => `${f.kind}/${f.pattern ?? ''}/${f.severity}`);
}

/** alice holds a, bob holds b; alice asks for b with a timeout, bob asks for a without. */
function boundedCycle(): TraceBuilder {
  return twoLocks()
    .ev(0, 'acquired', 1, 11, 10)
    .ev(1, 'acquired', 2, 12, 12)
    .ev(2, 'request-bounded', 1, 12, 11)
    .ev(3, 'request', 2, 11, 13);
}

describe('cycles through waits that may give up', () => {
  test('a timeout in the batch that closed the cycle: a timed-out warning', () => {
    assert.deepEqual(judged(boundedCycle().ev(4, 'timeout', 1, 12, 11, 1)), [
      'deadlock/timed-out/warning',
    ]);
  });

  test('a timeout in a later batch: the same warning', () => {
    const b = boundedCycle().heartbeat(5).ev(1_000, 'timeout', 1, 12, 11, 1);
    assert.deepEqual(judged(b), ['deadlock/timed-out/warning']);
  });

  test('one that never gives up: a bounded warning past the long-hold limit', () => {
    assert.deepEqual(judged(boundedCycle().heartbeat(10)), [], 'not yet');
    const late = judged(boundedCycle().heartbeat(2_000_000)).filter(
      (f) => !f.startsWith('long-hold'),
    );
    assert.deepEqual(late, ['deadlock/bounded/warning']);
  });

  test('one still standing when its process ends: a bounded warning', () => {
    assert.deepEqual(judged(boundedCycle().end(20)), ['deadlock/bounded/warning']);
  });

  test('one still standing when the program goes idle: a deadlock', () => {
    assert.deepEqual(judged(boundedCycle().idle(20)), ['deadlock//error']);
  });

  test('without a bounded wait, the cycle is a deadlock at once', () => {
    const b = twoLocks()
      .ev(0, 'acquired', 1, 11, 10)
      .ev(1, 'acquired', 2, 12, 12)
      .ev(2, 'request', 1, 12, 11)
      .ev(3, 'request', 2, 11, 13);
    assert.deepEqual(judged(b), ['deadlock//error']);
  });

  test('a join that may give up makes the cycle through it bounded', () => {
    /** main holds m and joins child (n: 1 if the join may give up); child asks for m. */
    const joinCycle = (n: number): TraceBuilder =>
      new TraceBuilder()
        .task(1, 'main')
        .task(2, 'child')
        .resource(11, 'mutex', 'm')
        .resource(20, 'task', 'child')
        .site(10)
        .site(11)
        .ev(0, 'acquired', 1, 11, 10)
        .ev(1, 'request', 2, 11, 11)
        .ev(2, 'join', 1, 20, 10, n, 2);
    assert.deepEqual(judged(joinCycle(1).heartbeat(5)), []);
    assert.deepEqual(judged(joinCycle(0)), ['deadlock//error']);
  });

  test('a timeout of 1 ms is no fail-fast refusal', () => {
    const b = twoLocks()
      .ev(0, 'acquired', 1, 11, 10)
      .ev(1, 'acquired', 2, 12, 12)
      .ev(2, 'request', 2, 11, 13)
      .ev(3, 'request-bounded', 1, 12, 11)
      .ev(4, 'timeout', 1, 12, 11, 1);
    assert.ok(judged(b).every((f) => !f.includes('averted')));
  });

  test('asking again with a timeout for a lock one holds: a self-deadlock warning', () => {
    const b = twoLocks().ev(0, 'acquired', 1, 11, 10).ev(1, 'request-bounded', 1, 11, 11);
    assert.deepEqual(judged(b), ['self-deadlock//warning']);
  });

  test('a certain cycle beside one that times out in the same batch is a deadlock', () => {
    // x and a read r; b holds m and n and asks to write r. x asks for n with a timeout, a for m
    // without: a and b deadlock for certain, whatever x's timeout does.
    const b = new TraceBuilder()
      .task(1, 'x')
      .task(2, 'a')
      .task(3, 'b')
      .resource(11, 'rwlock', 'r')
      .resource(12, 'mutex', 'm')
      .resource(13, 'mutex', 'n')
      .site(10)
      .ev(0, 'acquired', 1, 11, 10, 1)
      .ev(1, 'acquired', 2, 11, 10, 1)
      .ev(2, 'acquired', 3, 12, 10)
      .ev(3, 'acquired', 3, 13, 10)
      .ev(4, 'request-bounded', 1, 13, 10)
      .ev(5, 'request', 2, 12, 10)
      .ev(6, 'request', 3, 11, 10, 2)
      .ev(7, 'timeout', 1, 13, 10, 1);
    const found = analyzeTrace(b.text()).findings;
    const certain = found.filter((f) => f.severity === 'error');
    assert.deepEqual(
      certain.map((f) => [f.kind, f.tasks.map((t) => t.name).sort()]),
      [['deadlock', ['a', 'b']]],
    );
  });

  test('a cycle reported at idle is not reported again when its process ends', () => {
    assert.deepEqual(judged(boundedCycle().idle(20).end(30)), ['deadlock//error']);
  });

  test('timed out once and standing too long later: one finding for one cycle', () => {
    const twice = boundedCycle()
      .ev(4, 'timeout', 1, 12, 11, 1)
      .ev(5, 'request-bounded', 1, 12, 11)
      .heartbeat(3_000_000);
    assert.deepEqual(
      judged(twice).filter((f) => !f.startsWith('long-hold')),
      ['deadlock/timed-out/warning'],
    );
  });

  test('a self-deadlock that gives up in the batch it began: a warning', () => {
    const b = twoLocks()
      .ev(0, 'acquired', 1, 11, 10)
      .ev(1, 'request-bounded', 1, 11, 11)
      .ev(2, 'timeout', 1, 11, 11, 1);
    assert.deepEqual(judged(b), ['self-deadlock//warning']);
  });

  test('a wait fail-fast judges later is no deadlock before its judgement', () => {
    // The request and the judgement fall in two batches (a heartbeat between them).
    const judgedLater = (): TraceBuilder =>
      twoLocks()
        .ev(0, 'acquired', 1, 11, 10)
        .ev(1, 'acquired', 2, 12, 12)
        .ev(2, 'request', 1, 12, 11)
        .ev(3, 'request', 2, 11, 13)
        .ev(4, 'judging', 2, 11, 13, 1)
        .heartbeat(5);
    const refused = judgedLater().ev(6, 'error', 2, 11, 13, 1);
    assert.deepEqual(judged(refused), ['deadlock/averted/warning']);
    const letWait = judgedLater().ev(6, 'judging', 2, 11, 13, 0);
    assert.deepEqual(judged(letWait), ['deadlock//error']);
  });
});
