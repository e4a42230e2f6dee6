// The explorer's pure parts: the strategies (seeded, exhaustive where they say so), the
// scheduler's choices and virtual time, and the schedule format (validated where it enters).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DfsStrategy,
  PctStrategy,
  prng,
  RandomStrategy,
  ReplayStrategy,
  type Strategy,
} from '../../runtime-probe/src/explore/strategies.js';
import { Scheduler } from '../../runtime-probe/src/explore/scheduler.js';
import {
  parseScheduleFile,
  parseScheduleString,
  ScheduleError,
  stepWords,
  toScheduleString,
} from '../../runtime-probe/src/explore/schedule.js';
import type { Flow } from '../../runtime-probe/src/runtime.js';

/** Runs `strategy` over a tree of decisions: `shape[i]` choices at step i, every run alike. */
function runOnce(strategy: Strategy, run: number, shape: number[]): number[] {
  if (!strategy.begin(run)) return [];
  const picks = shape.map((n, step) =>
    strategy.choose({ step, flows: Array.from({ length: n }, (_, i) => i + 1) }),
  );
  strategy.end(shape.length);
  return picks;
}

describe('strategies', () => {
  test('the same seed gives the same runs; another seed others', () => {
    const shape = [3, 3, 2, 4, 3, 2, 5];
    const a = [0, 1, 2, 3].map((r) => runOnce(new RandomStrategy(5), r, shape));
    const b = [0, 1, 2, 3].map((r) => runOnce(new RandomStrategy(5), r, shape));
    const c = [0, 1, 2, 3].map((r) => runOnce(new RandomStrategy(6), r, shape));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    const pct = (seed: number): number[][] => {
      const s = new PctStrategy(seed, 3);
      return [0, 1, 2].map((r) => runOnce(s, r, shape));
    };
    assert.deepEqual(pct(9), pct(9));
  });

  test('every choice is in range', () => {
    for (const s of [new RandomStrategy(1), new PctStrategy(1, 3), new DfsStrategy(100)]) {
      for (let r = 0; r < 50; r++) {
        const shape = [1, 2, 3, 7, 2, 1, 4];
        runOnce(s, r, shape).forEach((pick, i) => assert.ok(pick >= 0 && pick < shape[i]!));
      }
    }
  });

  test('dfs runs every schedule once and then says it is done', () => {
    const dfs = new DfsStrategy(100);
    const seen = new Set<string>();
    let runs = 0;
    while (!dfs.exhausted && runs < 1000) {
      const picks = runOnce(dfs, runs++, [2, 3, 2]);
      if (picks.length) seen.add(picks.join('.'));
    }
    assert.equal(seen.size, 12);
    assert.equal(dfs.begin(runs), false);
  });

  test('dfs branches only up to its bound', () => {
    const dfs = new DfsStrategy(2);
    let runs = 0;
    while (!dfs.exhausted && runs < 1000) runOnce(dfs, runs++, [2, 2, 2, 2]);
    assert.equal(runs, 4);
  });

  test('pct runs the flow with the highest priority, the same one until a change point', () => {
    const pct = new PctStrategy(3, 1); // depth 1: no change points
    pct.begin(0);
    const first = pct.choose({ step: 0, flows: [10, 20, 30] });
    const flow = [10, 20, 30][first]!;
    for (let step = 1; step < 20; step++) {
      const flows = [30, 10, 20];
      assert.equal(flows[pct.choose({ step, flows })], flow);
    }
  });

  test('a replay follows its choices, and falls back to the first where they do not fit', () => {
    const replay = new ReplayStrategy([2, 0, 5]);
    assert.deepEqual(runOnce(replay, 0, [3, 2, 3, 2]), [2, 0, 0, 0]);
  });

  test('the generator is uniform enough to pick every choice', () => {
    const next = prng(1);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[Math.floor(next() * 4)]!++;
    for (const c of counts) assert.ok(c > 800 && c < 1200, String(counts));
  });
});

describe('the scheduler', () => {
  const flow = (id: number): Flow => ({
    id,
    name: `f${id}`,
    kind: 'flow',
    parent: undefined,
    alias: undefined,
    blocked: false,
    sentIn: -1,
  });

  test('calls at their gates go before any timer; timers then in any order', () => {
    const s = new Scheduler(false);
    const fired: string[] = [];
    s.timer(flow(1), 50, 'sleep', 0, () => fired.push('50'));
    s.timer(flow(2), 1, 'sleep', 0, () => fired.push('1'));
    s.park(flow(3), undefined, 'acquire', 0, () => fired.push('gate'));
    assert.deepEqual(
      s.choices().map((p) => p.op),
      ['acquire'],
    );
    s.fire(s.choices()[0]!);
    assert.deepEqual(
      s.choices().map((p) => p.ms),
      [50, 1],
    );
    s.fire(s.choices()[0]!);
    assert.equal(s.now, 50);
    assert.equal(s.reorderings.length, 1);
    assert.equal(s.reorderings[0]!.overtook.ms, 1);
    assert.deepEqual(fired, ['gate', '50']);
  });

  test("one flow's calls of one turn are one choice, and go on together in their order", () => {
    const s = new Scheduler(false);
    const order: string[] = [];
    const f = flow(1);
    s.park(f, undefined, 'first', 0, () => order.push('first'));
    s.park(flow(2), undefined, 'other', 0, () => order.push('other'));
    s.park(f, undefined, 'second', 0, () => order.push('second'));
    assert.deepEqual(
      s.choices().map((p) => p.op),
      ['first', 'other'],
    );
    s.fire(s.choices()[0]!);
    assert.deepEqual(order, ['first', 'second']);
    s.turn++;
    s.park(f, undefined, 'later', 0, () => {});
    assert.deepEqual(
      s.choices().map((p) => p.op),
      ['other', 'later'],
    );
  });

  test('ordered timers fire earliest first, and a cancelled one never', () => {
    const s = new Scheduler(true);
    const fired: number[] = [];
    s.timer(flow(1), 30, 'sleep', 0, () => fired.push(30));
    const h = s.timer(flow(2), 10, 'timeout', 0, () => fired.push(10));
    s.timer(flow(3), 20, 'sleep', 0, () => fired.push(20));
    s.cancel(h);
    while (s.choices().length) s.fire(s.choices()[0]!);
    assert.deepEqual(fired, [20, 30]);
    assert.equal(s.reorderings.length, 0);
  });

  test('a reset forgets the run and numbers the next one anew', () => {
    const s = new Scheduler(false);
    s.park(flow(1), undefined, 'acquire', 0, () => {});
    const before = s.run;
    s.reset();
    assert.deepEqual(s.choices(), []);
    assert.ok(s.run > before);
  });
});

describe('schedules', () => {
  const file = {
    lockscopeSchedule: 1,
    program: 'a.ts',
    timers: 'any',
    strategy: 'pct',
    seed: 1,
    run: 3,
    schedule: '1.0',
    steps: [
      { of: 2, flow: 'alice', op: 'acquire', resource: 'account', at: 'a.ts:7' },
      { of: 1, flow: 'bob', op: 'sleep', ms: 5 },
    ],
    found: 'deadlock',
  };

  test('a schedule string round-trips', () => {
    assert.deepEqual(parseScheduleString(toScheduleString([3, 0, 12])), [3, 0, 12]);
    assert.deepEqual(parseScheduleString(''), []);
  });

  test('a schedule file is read back as written, and its steps read as words', () => {
    const read = parseScheduleFile(JSON.stringify(file));
    assert.deepEqual(read, file);
    assert.equal(stepWords(read.steps[0]!), 'alice acquire account (a.ts:7)');
    assert.equal(stepWords(read.steps[1]!), 'bob sleep 5 ms ends');
  });

  test('what is not a schedule is refused with what is wrong', () => {
    const bad: [string, RegExp][] = [
      ['{', /not JSON/],
      ['[]', /not a Lockscope schedule/],
      [JSON.stringify({ ...file, timers: 'sometimes' }), /"timers" must be "any" or "ordered"/],
      [JSON.stringify({ ...file, schedule: '1.-1' }), /step 2 of the schedule is "-1"/],
      [JSON.stringify({ ...file, steps: [file.steps[0]] }), /one decision per choice/],
      [
        JSON.stringify({ ...file, steps: [file.steps[0], { of: 'x' }] }),
        /step 2 is not a decision/,
      ],
      [JSON.stringify({ ...file, seed: 'one' }), /"seed" must be a number/],
    ];
    for (const [text, message] of bad) {
      assert.throws(
        () => parseScheduleFile(text),
        (e: unknown) => e instanceof ScheduleError && message.test(e.message),
        text,
      );
    }
  });
});
