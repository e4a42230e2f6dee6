// The analysis engine on recorded traces: what must be reported, and what must not.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Analyzer } from '../../runtime-probe/src/analysis/engine.js';
import { analyzeTrace, TraceError } from '../../runtime-probe/src/analysis/trace.js';
import type { Finding } from '../../runtime-probe/src/analysis/types.js';
import { oppositeOrders, TraceBuilder, twoLocks } from '../trace-builder.js';

function findings(b: TraceBuilder, options = {}): Finding[] {
  return analyzeTrace(b.text(), options).findings;
}

function kinds(b: TraceBuilder, options = {}): string[] {
  return findings(b, options).map((f) => f.kind);
}

/** The main flow of worker thread 1, and another of its flows (ids fold in the thread). */
const W = 2 ** 32 + 1;
const W2 = 2 ** 32 + 2;

/** twoLocks, and thread 1 with its main flow `worker` and another flow `worker job`. */
function threadOne(): TraceBuilder {
  return twoLocks().task(W, 'worker', 'main', 1).task(W2, 'worker job', 'spawn', 1);
}

describe('deadlock', () => {
  test('a cycle of two mutexes is reported when the second wait closes it', () => {
    const b = twoLocks()
      .ev(0, 'acquired', 1, 11, 10)
      .ev(1, 'acquired', 2, 12, 12)
      .ev(2, 'request', 1, 12, 11);
    assert.deepEqual(kinds(b), [], 'one wait is not a cycle');
    b.ev(3, 'request', 2, 11, 13);
    const [f] = findings(b);
    assert.equal(f?.kind, 'deadlock');
    assert.equal(f.severity, 'error');
    assert.deepEqual(
      f.tasks.map((t) => t.name),
      ['alice', 'bob'],
    );
    assert.deepEqual(f.resources.map((r) => r.name).sort(), ['a', 'b']);
    // Both ends of each edge: where each waits, and where the other acquired.
    assert.deepEqual(
      f.sites.map((s) => s.line),
      [11, 12, 13, 10],
    );
    assert.equal(f.cycle?.length, 2);
    assert.equal(f.at, 3);
    assert.match(f.message, /alice waits for b, held by bob; bob waits for a, held by alice/);
  });

  test('a chain of waits that does not close is not a deadlock', () => {
    const b = twoLocks()
      .ev(0, 'acquired', 1, 11, 10)
      .ev(1, 'acquired', 2, 12, 12)
      .ev(2, 'request', 1, 12, 11)
      .ev(3, 'released', 2, 12)
      .ev(4, 'acquired', 1, 12, 11)
      .ev(5, 'request', 2, 11, 13);
    assert.deepEqual(kinds(b), []);
  });

  test('tasks joining each other deadlock', () => {
    const b = new TraceBuilder()
      .task(1, 'alice')
      .task(2, 'bob')
      .resource(21, 'task', 'alice')
      .resource(22, 'task', 'bob')
      .site(30)
      .ev(0, 'join', 1, 22, 30, 0, 2)
      .ev(1, 'join', 2, 21, 30, 0, 1);
    assert.deepEqual(kinds(b), ['deadlock']);
  });

  test('a cycle through a semaphore is final only when the program goes idle', () => {
    const b = new TraceBuilder()
      .task(1, 'alice')
      .task(2, 'bob')
      .resource(11, 'mutex', 'm')
      .resource(12, 'semaphore', 'pool', undefined, 1)
      .site(10)
      .ev(0, 'acquired', 1, 11, 10)
      .ev(1, 'acquired', 2, 12, 10, 1)
      .ev(2, 'request', 1, 12, 10, 1)
      .ev(3, 'request', 2, 11, 10);
    assert.deepEqual(kinds(b), [], 'another task could still release a permit');
    b.idle(10);
    assert.deepEqual(kinds(b), ['deadlock']);
  });

  test('at idle, a cycle at the end of a long chain of waits is found, once', () => {
    // Tasks 1..400 each hold lock i and wait for lock i+1; task 400 waits for a channel that
    // only task 399 ever sent on: a cycle between the last two, behind a chain of 398 waits.
    const b = new TraceBuilder().site(10);
    const n = 400;
    for (let i = 1; i <= n; i++) b.task(i, `t${i}`).resource(1000 + i, 'mutex', `m${i}`);
    b.resource(2000, 'channel', 'c', undefined, 0);
    let us = 0;
    for (let i = 1; i <= n; i++) b.ev(us++, 'acquired', i, 1000 + i, 10);
    b.ev(us++, 'send', n - 1, 2000, 10);
    for (let i = 1; i < n; i++) b.ev(us++, 'request', i, 1000 + i + 1, 10);
    b.ev(us++, 'wait', n, 2000, 10, 1);
    assert.deepEqual(kinds(b), [], 'through a channel, not final before idle');
    const all = findings(b.idle(us + 10));
    assert.deepEqual(
      all.map((f) => f.kind),
      ['deadlock'],
    );
    assert.deepEqual(all[0]!.tasks.map((t) => t.name).sort(), ['t399', 't400']);
  });

  test('a wait for a lock that a timeout later ends is not reported', () => {
    const b = twoLocks()
      .ev(0, 'acquired', 1, 11, 10)
      .ev(1, 'request', 2, 11, 13)
      .ev(2, 'timeout', 2, 11, 13)
      .ev(3, 'request', 1, 12, 11)
      .ev(4, 'acquired', 1, 12, 11)
      .idle(10);
    assert.deepEqual(kinds(b), []);
  });
});

describe('blocked-forever', () => {
  const consumer = (): TraceBuilder =>
    new TraceBuilder()
      .task(1, 'producer')
      .task(2, 'consumer')
      .resource(11, 'channel', 'jobs', undefined, 2)
      .site(20)
      .site(25)
      .ev(0, 'send', 1, 11, 20)
      .ev(1, 'receive', 2, 11, 25)
      .ev(2, 'task-end', 1)
      .ev(3, 'wait', 2, 11, 25, 1);

  test('a receiver still waiting when the program goes idle waits forever', () => {
    const b = consumer().idle(100);
    const [f] = findings(b);
    assert.equal(f?.kind, 'blocked-forever');
    assert.deepEqual(
      f.tasks.map((t) => t.name),
      ['consumer'],
    );
    assert.equal(f.sites[0]?.line, 25);
    assert.match(f.message, /no task is left to send to it or close it/);
    assert.match(f.fix, /close/);
  });

  test('a receiver still waiting while the program runs is not reported', () => {
    assert.deepEqual(kinds(consumer()), []);
  });

  test('a task joining a task that waits forever is not reported again', () => {
    const b = consumer()
      .resource(12, 'task', 'consumer')
      .task(3, 'main', 'main')
      .ev(4, 'join', 3, 12, 30, 0, 2)
      .idle(100);
    const all = findings(b);
    assert.deepEqual(
      all.map((f) => f.kind),
      ['blocked-forever'],
    );
    assert.deepEqual(
      all[0]!.tasks.map((t) => t.name),
      ['consumer'],
    );
  });

  // The producer sent everything and joins its consumer; nobody closed the channel.
  const forgottenClose = (): TraceBuilder =>
    new TraceBuilder()
      .task(1, 'producer')
      .task(2, 'consumer')
      .resource(11, 'channel', 'jobs', undefined, 2)
      .resource(12, 'task', 'consumer')
      .site(20)
      .site(25)
      .site(30)
      .ev(0, 'send', 1, 11, 20)
      .ev(1, 'receive', 2, 11, 25)
      .ev(2, 'wait', 2, 11, 25, 1)
      .ev(3, 'join', 1, 12, 30, 0, 2);

  test('a sender that joins its receiver over an open channel is a forgotten close, not a cycle', () => {
    const all = findings(forgottenClose().idle(100));
    assert.deepEqual(
      all.map((f) => [f.kind, f.pattern, f.tasks.map((t) => t.name)]),
      [['blocked-forever', 'no-sender', ['consumer']]],
    );
    const [f] = all;
    assert.match(f!.message, /producer, which sent to it, waits for consumer to finish/);
    // The consumer's receive, and the producer's join: where the close belongs.
    assert.deepEqual(
      f!.sites.map((s) => [s.line, s.act]),
      [
        [25, 'waits'],
        [30, 'waits'],
      ],
    );
  });

  test('a sender that waits for a lock its receiver holds is a deadlock through the channel', () => {
    const b = new TraceBuilder()
      .task(1, 'producer')
      .task(2, 'consumer')
      .resource(11, 'channel', 'jobs', undefined, 2)
      .resource(13, 'mutex', 'table')
      .site(20)
      .site(25)
      .site(27)
      .site(31)
      .ev(0, 'send', 1, 11, 20)
      .ev(1, 'receive', 2, 11, 25)
      .ev(2, 'acquired', 2, 13, 27)
      .ev(3, 'wait', 2, 11, 25, 1)
      .ev(4, 'request', 1, 13, 31)
      .idle(100);
    const all = findings(b);
    assert.deepEqual(
      all.map((f) => f.kind),
      ['deadlock'],
    );
    const signal = all[0]!.sites.find((s) => s.act === 'signals');
    assert.equal(signal?.line, 20);
    assert.equal(signal?.role, 'producer sent to jobs');
  });

  test('waiters woken before idle are not reported', () => {
    assert.deepEqual(
      kinds(consumer().ev(4, 'close', 1, 11).ev(5, 'receive', 2, 11, 25, -1).idle(9)),
      [],
    );
  });
});

describe('channel join', () => {
  // The producer sent two values and joins the channel (wait n 3); the consumer received both and
  // marked one done.
  const joined = (): TraceBuilder =>
    new TraceBuilder()
      .task(1, 'producer')
      .task(2, 'consumer')
      .resource(11, 'channel', 'jobs', undefined, 2)
      .site(20)
      .site(25)
      .site(26)
      .site(30)
      .ev(0, 'send', 1, 11, 20)
      .ev(1, 'send', 1, 11, 20)
      .ev(2, 'receive', 2, 11, 25)
      .ev(3, 'add', 2, 11, 26, -1)
      .ev(4, 'receive', 2, 11, 25)
      .ev(5, 'wait', 1, 11, 30, 3);

  test('a join woken by the last taskDone is not reported', () => {
    const b = joined().ev(6, 'add', 2, 11, 26, -1).ev(7, 'wake', 1, 11, 30).ev(8, 'task-end', 2);
    assert.deepEqual(kinds(b.idle(100)), []);
  });

  test('a join left waiting by a consumer that forgot a taskDone is blocked forever', () => {
    const all = findings(joined().ev(6, 'task-end', 2).idle(100));
    assert.deepEqual(
      all.map((f) => [f.kind, f.pattern, f.tasks.map((t) => t.name)]),
      [['blocked-forever', undefined, ['producer']]],
    );
    assert.match(all[0]!.message, /producer waits for every value sent to jobs to be marked done/);
    assert.match(all[0]!.fix, /taskDone\(\) once for every value received/);
    assert.equal(all[0]!.sites[0]?.line, 30);
  });

  test('a join and a receive that wait on each other are a cycle through the channel', () => {
    // The consumer forgot a taskDone and waits for more; the producer sent everything and joins.
    const all = findings(joined().ev(6, 'wait', 2, 11, 25, 1).idle(100));
    assert.deepEqual(
      all.map((f) => f.kind),
      ['deadlock'],
    );
    const roles = all[0]!.sites.filter((s) => s.act === 'signals').map((s) => s.role);
    assert.deepEqual(roles.sort(), ['consumer received from jobs', 'producer sent to jobs']);
    assert.match(
      all[0]!.message,
      /producer joins jobs, whose values only consumer would mark done/,
    );
    assert.match(all[0]!.fix, /call taskDone\(\) once for every value received/);
  });

  test('joiners and receivers stuck on one channel get a finding each, in their own words', () => {
    const all = findings(
      joined()
        .task(3, 'late')
        .ev(6, 'task-end', 2)
        .ev(7, 'wait', 3, 11, 25, 1)
        .ev(8, 'task-end', 1)
        .task(4, 'boss')
        .ev(9, 'wait', 4, 11, 30, 3)
        .idle(100),
    );
    assert.deepEqual(
      all.map((f) => [f.kind, f.tasks.map((t) => t.name)]),
      [
        ['blocked-forever', ['late']],
        ['blocked-forever', ['boss']],
      ],
    );
    assert.match(all[0]!.message, /to receive from jobs/);
    assert.match(all[1]!.message, /to be marked done/);
  });

  test('an extra taskDone is a misuse finding that says so', () => {
    const b = joined().ev(6, 'misuse', 2, 11, 26, 7);
    const [f] = findings(b);
    assert.equal(f?.kind, 'misuse');
    assert.match(f.title, /extra-task-done/);
    assert.match(f.message, /consumer called taskDone\(\) on jobs more times than values were/);
  });
});

describe('lock-order inversion', () => {
  test('a lock taken by try-lock while holding another orders nothing', () => {
    const b = twoLocks()
      .ev(0, 'acquired', 1, 11, 10)
      .ev(1, 'try-acquired', 1, 12, 11)
      .ev(2, 'released', 1, 12)
      .ev(3, 'released', 1, 11)
      .ev(4, 'acquired', 2, 12, 12)
      .ev(5, 'try-acquired', 2, 11, 13);
    assert.deepEqual(kinds(b), []);
  });

  test('two tasks taking two locks in opposite orders, at different times', () => {
    const b = oppositeOrders().ev(6, 'released', 2, 11).ev(7, 'released', 2, 12).idle(10);
    const [f] = findings(b);
    assert.equal(f?.kind, 'lock-order-inversion');
    assert.equal(f.severity, 'warning');
    assert.deepEqual(f.tasks.map((t) => t.name).sort(), ['alice', 'bob']);
    assert.deepEqual(f.sites.map((s) => s.line).sort(), [10, 11, 12, 13]);
    assert.match(f.fix, /a before b/);
  });

  test('orders that only one task ever takes are not reported', () => {
    assert.deepEqual(kinds(oppositeOrders(1)), []);
  });

  test('orders protected by a common gate lock are not reported', () => {
    const b = twoLocks()
      .resource(13, 'mutex', 'gate')
      .ev(0, 'acquired', 1, 13, 10)
      .ev(1, 'acquired', 1, 11, 10)
      .ev(2, 'acquired', 1, 12, 11)
      .ev(3, 'released', 1, 12)
      .ev(4, 'released', 1, 11)
      .ev(5, 'released', 1, 13)
      .ev(6, 'acquired', 2, 13, 12)
      .ev(7, 'acquired', 2, 12, 12)
      .ev(8, 'acquired', 2, 11, 13);
    assert.deepEqual(kinds(b), []);
  });

  test('locks of one class are ordered by instance: an ordered fix is clean', () => {
    const fork = '/app/forks.ts:3:1';
    const b = new TraceBuilder().task(1, 'p0').task(2, 'p1').task(3, 'p2').site(10);
    for (let i = 0; i < 3; i++) b.resource(11 + i, 'mutex', `fork ${i}`, fork);
    // Dijkstra: the last philosopher takes fork 0 before fork 2.
    const pairs: [number, number, number][] = [
      [1, 11, 12],
      [2, 12, 13],
      [3, 11, 13],
    ];
    let us = 0;
    for (const [t, first, second] of pairs) {
      b.ev(us++, 'acquired', t, first, 10).ev(us++, 'acquired', t, second, 10);
      b.ev(us++, 'released', t, second).ev(us++, 'released', t, first);
    }
    assert.deepEqual(kinds(b), []);
  });
});

describe('abandoned locks, self-deadlock and misuse', () => {
  test('a task that throws while holding abandons the lock', () => {
    const b = twoLocks()
      .ev(0, 'acquired', 1, 11, 10)
      .ev(1, 'task-end', 1, undefined, undefined, 1)
      .ev(2, 'request', 2, 11, 13)
      .idle(50);
    const all = findings(b);
    assert.deepEqual(
      all.map((f) => f.kind),
      ['abandoned-lock'],
      'the waiter is explained by the abandoned lock, not reported again',
    );
    assert.equal(all[0]?.sites[0]?.line, 10);
    assert.match(all[0].message, /threw while holding it/);
  });

  test('a holder with nothing left to run at idle abandons the lock it holds', () => {
    const b = twoLocks().ev(0, 'acquired', 1, 11, 10).ev(2, 'request', 2, 11, 13).idle(50);
    const [f] = findings(b);
    assert.equal(f?.kind, 'abandoned-lock');
    assert.deepEqual(
      f.tasks.map((t) => t.name),
      ['alice', 'bob'],
    );
    assert.deepEqual(
      f.sites.map((s) => s.line),
      [10, 13],
    );
  });

  test('a garbage-collected guard abandons its lock', () => {
    const b = twoLocks().ev(0, 'acquired', 1, 11, 10).ev(1, 'guard-collected', 1, 11, 10, 1);
    assert.deepEqual(kinds(b), ['abandoned-lock']);
  });

  test('a shared lock whose thread ended is abandoned, with the holder from `peer`', () => {
    const b = twoLocks().ev(0, 'abandoned', 2, 11, 10, 3, 1);
    const [f] = findings(b);
    assert.equal(f?.kind, 'abandoned-lock');
    assert.equal(f.tasks[0]?.name, 'alice');
  });

  test("a thread's exit abandons what its tasks hold, once, and leaves no long hold", () => {
    const b = threadOne()
      .ev(0, 'acquired', W, 11, 10)
      .ev(1, 'acquired', W2, 12, 12)
      .ev(2, 'request', 1, 11, 11)
      .ev(3, 'thread-exit', W, undefined, undefined, 1);
    const all = findings(b);
    assert.deepEqual(
      all.map((f) => [f.kind, f.resources[0]?.name]),
      [
        ['abandoned-lock', 'a'],
        ['abandoned-lock', 'b'],
      ],
      'one finding per lock the thread held, from whichever of its tasks',
    );
    assert.equal(all[0]!.tasks[0]?.name, 'worker');
    assert.deepEqual(
      all[0]!.tasks.map((t) => t.name),
      ['worker', 'alice'],
      'with the task that waited for it',
    );
    assert.equal(all[0]!.sites[0]?.line, 10, 'at the acquisition of the hold');
    assert.equal(all[0]!.certainty, 'exact');
    assert.match(all[0]!.message, /its thread ended while holding it/);
    b.heartbeat(5_000_000).idle(6_000_000);
    assert.deepEqual(
      kinds(b),
      ['abandoned-lock', 'abandoned-lock'],
      'no long hold, and the waiter is not blocked forever: the holds ended with the thread',
    );
  });

  test("a thread's exit and the lock word's `abandoned` event make one finding, in either order", () => {
    const exitFirst = threadOne()
      .ev(0, 'acquired', W, 11, 10)
      .ev(1, 'thread-exit', W, undefined, undefined, 1)
      .ev(2, 'abandoned', 1, 11, 10, 1, W)
      .ev(3, 'acquired', 1, 11, 11, 1);
    assert.deepEqual(kinds(exitFirst), ['abandoned-lock']);
    const wordFirst = threadOne()
      .ev(0, 'acquired', W, 11, 10)
      .ev(1, 'abandoned', 1, 11, 10, 1, W)
      .ev(2, 'acquired', 1, 11, 11, 1)
      .ev(3, 'thread-exit', W, undefined, undefined, 1);
    assert.deepEqual(kinds(wordFirst), ['abandoned-lock']);
    wordFirst.heartbeat(5_000_000);
    assert.deepEqual(kinds(wordFirst), ['abandoned-lock', 'long-hold'], "only alice's own hold");
    assert.equal(findings(wordFirst)[1]!.tasks[0]?.name, 'alice');
  });

  test('a thread ended from outside leaves uncertain findings, and ends the threads it started', () => {
    const C = 2 * 2 ** 32 + 1;
    const b = threadOne()
      .task(C, 'child', 'main', 2)
      .ev(0, 'thread-start', W, undefined, 20, 0, C)
      .ev(1, 'acquired', W, 11, 10)
      .ev(2, 'acquired', C, 12, 12)
      .ev(3, 'request', C, 11, 13)
      .ev(4, 'thread-cut', W, undefined, undefined, 1)
      .ev(5, 'thread-exit', W, undefined, undefined, 1);
    const all = findings(b);
    assert.deepEqual(
      all.map((f) => [f.kind, f.tasks[0]?.name, f.certainty, f.uncertainty]),
      [
        ['abandoned-lock', 'worker', 'uncertain', ['gap']],
        ['abandoned-lock', 'child', 'uncertain', ['gap']],
      ],
      'the child thread ended with its parent; releases either sent last may be lost',
    );
    assert.equal(all[0]!.severity, 'warning');
    b.heartbeat(5_000_000).idle(6_000_000);
    assert.equal(findings(b).length, 2, 'nothing else: the child no longer waits nor holds');
  });

  test("the lock word's holder is the hold the model knows, when it names a provisional flow", () => {
    // A flow whose identity its thread decided after it took the lock: the word has the
    // provisional id, which no registration names.
    const b = threadOne()
      .ev(0, 'acquired', W2, 11, 10)
      .ev(1, 'abandoned', 1, 11, 10, 1, 2 ** 32 + 7);
    const [f] = findings(b);
    assert.equal(f?.tasks[0]?.name, 'worker job');
    b.heartbeat(5_000_000);
    assert.deepEqual(kinds(b), ['abandoned-lock'], 'and that hold is over');
  });

  test('a wait of a thread that ended is over: no deadlock nor blocked-forever from it', () => {
    const b = threadOne()
      .ev(0, 'acquired', 1, 11, 10)
      .ev(1, 'request', W, 11, 13)
      .ev(2, 'thread-exit', W, undefined, undefined, 1)
      .ev(3, 'acquired', 1, 12, 12)
      .ev(4, 'released', 1, 12)
      .idle(10);
    assert.deepEqual(kinds(b), [], 'alice holds a with nobody left waiting for it');
  });

  test("an ended thread's events that arrive after its end start nothing", () => {
    // Under a collector, a thread's last batch may come after its end is known.
    const b = threadOne()
      .ev(0, 'abandoned', 1, 11, 10, 1, W)
      .ev(1, 'acquired', 1, 11, 11, 1)
      .ev(2, 'released', 1, 11)
      .ev(3, 'acquired', W2, 12, 12)
      .ev(4, 'request', W2, 11, 13)
      .heartbeat(5_000_000)
      .idle(6_000_000);
    assert.deepEqual(kinds(b), ['abandoned-lock'], 'no hold of b, no wait for a');
  });

  test("a worker's exit ends its thread, whichever thread registered its main flow last", () => {
    // The parent registers the worker's main flow too; an older probe sent its own thread (0)
    // with it, and it can arrive after the worker's own registration.
    const b = threadOne()
      .task(W, 'worker', 'main', 0)
      .ev(0, 'acquired', W, 11, 10)
      .ev(1, 'thread-exit', W, undefined, undefined, 1)
      .ev(2, 'acquired', 1, 12, 12)
      .ev(3, 'request', 1, 12, 13);
    assert.deepEqual(
      kinds(b),
      ['abandoned-lock', 'self-deadlock'],
      'the main thread goes on: its own events after the exit still count',
    );
  });

  test('re-acquiring a held mutex is a self-deadlock; a re-entrant mutex is fine', () => {
    const b = twoLocks()
      .resource(13, 'reentrant-mutex', 'r')
      .ev(0, 'acquired', 1, 13, 10, 1)
      .ev(1, 'acquired', 1, 13, 11, 2)
      .ev(2, 'acquired', 1, 11, 10)
      .ev(3, 'request', 1, 11, 11);
    const [f] = findings(b);
    assert.equal(f?.kind, 'self-deadlock');
    assert.deepEqual(
      f.sites.map((s) => s.line),
      [11, 10],
    );
  });

  test('misuse events become misuse findings, one per place', () => {
    const b = twoLocks()
      .ev(0, 'misuse', 2, 11, 12, 2)
      .ev(1, 'misuse', 2, 11, 12, 2)
      .ev(2, 'misuse', 1, 12, 13, 1);
    const all = findings(b);
    assert.deepEqual(
      all.map((f) => f.kind),
      ['misuse', 'misuse'],
    );
    assert.match(all[0]!.message, /which another task holds/);
    assert.match(all[1]!.message, /double release/);
  });
});

describe('starvation, long holds and livelock', () => {
  test('a writer that waits while readers are granted again and again starves', () => {
    const b = twoLocks().resource(13, 'rwlock', 'table').ev(0, 'acquired', 1, 13, 10, 1);
    b.ev(1, 'request', 2, 13, 11, 2);
    let us = 2;
    for (let i = 0; i < 60; i++)
      b.ev(us++, 'acquired', 1, 13, 10, 1).ev(us++, 'released', 1, 13, undefined, 1);
    const [f] = findings(b);
    assert.equal(f?.kind, 'starvation');
    assert.equal(f.tasks[0]?.name, 'bob');
    assert.equal(f.sites[0]?.line, 11);
    assert.deepEqual(kinds(b, { starvationGrants: 100 }), []);
  });

  test('permits released together end the hold that took them together', () => {
    const b = twoLocks()
      .resource(13, 'semaphore', 'pool', undefined, 3)
      .ev(0, 'acquired', 1, 13, 10, 2)
      .ev(1, 'released', 1, 13, undefined, 2)
      .heartbeat(5_000_000);
    assert.deepEqual(kinds(b), [], 'no phantom hold is left to be reported as long');
  });

  test('a hold past the limit is a long hold, at release or on a heartbeat', () => {
    const released = twoLocks().ev(0, 'acquired', 1, 11, 10).ev(1_500_000, 'released', 1, 11);
    assert.deepEqual(kinds(released), ['long-hold']);
    assert.deepEqual(kinds(released, { longHoldMs: 2000 }), []);
    const stillHeld = twoLocks().ev(0, 'acquired', 1, 11, 10).heartbeat(1_200_000);
    assert.deepEqual(kinds(stillHeld), ['long-hold']);
  });

  test('two tasks failing their try-locks in lockstep livelock; a lucky retry does not', () => {
    const lockstep = (rounds: number, winAt = -1): TraceBuilder => {
      const b = twoLocks();
      let us = 0;
      for (let i = 0; i < rounds; i++) {
        b.ev(us++, 'acquired', 1, 11, 10).ev(us++, 'acquired', 2, 12, 12);
        if (i === winAt) break;
        b.ev(us++, 'try-failed', 1, 12, 11).ev(us++, 'try-failed', 2, 11, 13);
        b.ev(us++, 'released', 1, 11).ev(us++, 'released', 2, 12);
      }
      return b;
    };
    const [f] = findings(lockstep(12));
    assert.equal(f?.kind, 'livelock');
    assert.deepEqual(f.tasks.map((t) => t.name).sort(), ['alice', 'bob']);
    assert.ok(f.sites.some((s) => s.line === 11) && f.sites.some((s) => s.line === 13));
    assert.deepEqual(kinds(lockstep(5)), []);
  });
});

describe('input and output', () => {
  test('events naming tasks and resources the stream never registered are shown by number', () => {
    const b = new TraceBuilder()
      .ev(0, 'acquired', 7, 70)
      .ev(1, 'acquired', 8, 80)
      .ev(2, 'request', 7, 80)
      .ev(3, 'request', 8, 70);
    const [f] = findings(b);
    assert.equal(f?.kind, 'deadlock');
    assert.deepEqual(
      f.tasks.map((t) => t.name),
      ['task 7', 'task 8'],
    );
  });

  test('streams of one process share its model: a cycle across them is found', () => {
    const main = twoLocks().ev(0, 'acquired', 1, 11, 10);
    const io = new TraceBuilder().ev(1, 'acquired', 2, 12, 12).ev(2, 'request', 2, 11, 13);
    const other = new TraceBuilder(777).ev(3, 'request', 1, 12, 11);
    for (const b of [main, io, other]) b.text(); // ends the open batches
    const a = new Analyzer();
    const [s1, s2, s3] = [{}, {}, {}];
    for (const m of main.messages) a.accept(s1, m);
    for (const m of io.messages) a.accept(s2, m);
    for (const m of other.messages) a.accept(s3, m);
    assert.deepEqual(
      a.findings.map((f) => f.kind),
      [],
      'another pid is another process',
    );
    a.accept(s1, {
      t: 'events',
      thread: 0,
      origin: main.origin,
      events: [{ us: 4, op: 'request', task: 1, res: 12, site: 11 }],
    });
    assert.deepEqual(
      a.findings.map((f) => f.kind),
      ['deadlock'],
    );
    assert.deepEqual(
      a.report().processes.map((p) => p.pid),
      [4242, 777],
    );
  });

  test('a stream cut off and opened again by the same process goes on with its model', () => {
    // The probe reconnects after a stall with the same hello: the lock taken before the cut is
    // still held after it, so the request after the cut closes a cycle.
    const before = twoLocks().ev(0, 'acquired', 1, 11, 10).ev(1, 'acquired', 2, 12, 12);
    before.text();
    const a = new Analyzer();
    const [s1, s2, s3] = [{}, {}, {}];
    for (const m of before.messages) a.accept(s1, m);
    a.endStream(s1);
    const [hello] = before.messages;
    a.accept(s2, hello!);
    a.accept(s2, {
      t: 'events',
      thread: 0,
      origin: before.origin,
      events: [
        { us: 2, op: 'request', task: 1, res: 12, site: 11 },
        { us: 3, op: 'request', task: 2, res: 11, site: 13 },
      ],
    });
    assert.deepEqual(
      a.findings.map((f) => f.kind),
      ['deadlock'],
    );
    assert.equal(a.report().processes.length, 1);
    // Another start time with the same pid is another process, even while the first is cut.
    a.endStream(s2);
    a.accept(s3, { ...hello!, ts: before.origin + 5_000 } as typeof hello & object);
    assert.equal(a.report().processes.length, 2);
  });

  test('a registration that changes a resource kind is ignored, and findings become uncertain', () => {
    const b = twoLocks();
    b.resource(11, 'semaphore', 'left', undefined, 5);
    b.ev(0, 'acquired', 1, 11, 10).ev(1, 'acquired', 2, 12, 12);
    b.ev(2, 'request', 1, 12, 11).ev(3, 'request', 2, 11, 13);
    const [f] = findings(b);
    // Still a deadlock over two mutexes, not a semaphore with five permits.
    assert.equal(f?.kind, 'deadlock');
    assert.equal(f.certainty, 'uncertain');
    assert.deepEqual(f.uncertainty, ['gap']);
  });

  test("each stream's drops count: the I/O thread's gap is not hidden by the main thread's", () => {
    const main = twoLocks();
    main.text();
    const [hello] = main.messages;
    const a = new Analyzer();
    const [s1, s2] = [{}, {}];
    for (const m of main.messages) a.accept(s1, m);
    a.accept(s2, { ...hello!, thread: 9 } as typeof hello & object);
    a.accept(s2, { t: 'heartbeat', ts: main.origin + 1, produced: 0, dropped: 7 });
    a.accept(s1, { t: 'heartbeat', ts: main.origin + 2, produced: 100, dropped: 0 });
    const [proc] = a.report().processes;
    assert.deepEqual([proc?.produced, proc?.dropped], [100, 7]);
  });

  test('a recorded trace always gives the same report', () => {
    const b = twoLocks()
      .ev(0, 'acquired', 1, 11, 10)
      .ev(1, 'acquired', 2, 12, 12)
      .ev(2, 'request', 1, 12, 11)
      .ev(3, 'request', 2, 11, 13)
      .idle(9);
    assert.deepEqual(analyzeTrace(b.text()).report(), analyzeTrace(b.text()).report());
  });

  test('siteStats() answers what report().stats.sites does, without the rest of a report', () => {
    const b = twoLocks()
      .ev(0, 'acquired', 1, 11, 10)
      .ev(1, 'released', 1, 11)
      .ev(2, 'acquired', 2, 11, 12)
      .ev(3, 'released', 2, 11);
    const a = analyzeTrace(b.text());
    assert.equal(a.siteStats().length, 2);
    assert.deepEqual(a.siteStats(), a.report().stats.sites);
  });

  test('a file that is not a trace is refused with the line', () => {
    assert.throws(
      () => analyzeTrace('{"t":"events"}\n'),
      (e: unknown) => e instanceof TraceError && /line 1/.test(e.message),
    );
    assert.throws(() => analyzeTrace(''), /empty/);
    const cut = twoLocks().ev(0, 'acquired', 1, 11, 10).text() + '{"t":"eve';
    assert.equal(
      analyzeTrace(cut).report().timeline.intervals.length,
      1,
      'a cut last line is dropped',
    );
  });

  test('the report carries statistics, the graph and the time line', () => {
    const b = twoLocks()
      .ev(0, 'acquired', 1, 11, 10)
      .ev(100, 'request', 2, 11, 13)
      .ev(400, 'released', 1, 11)
      .ev(401, 'acquired', 2, 11, 13)
      .ev(500, 'request', 1, 12, 11);
    const r = analyzeTrace(b.text()).report();
    const a = r.stats.resources.find((s) => s.name === 'a')!;
    assert.equal(a.acquisitions, 2);
    assert.equal(a.contended, 1);
    assert.ok(Math.abs(a.wait.max - 301) <= 1);
    const wait = r.timeline.intervals.find((iv) => iv.type === 'wait' && iv.end !== undefined)!;
    assert.equal(wait.endedBy, '4242:1', 'the release that ended the wait');
    assert.deepEqual(r.graph.edges.map((e) => `${e.source} ${e.type} ${e.target}`).sort(), [
      '4242:1 waits 4242:r12',
      '4242:r11 holds 4242:2',
    ]);
    const bounded = analyzeTrace(b.text(), { maxIntervals: 2 }).report();
    assert.equal(bounded.timeline.intervals.length, 2);
    assert.equal(bounded.timeline.omitted, 2);
  });
});
