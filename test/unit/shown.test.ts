// What the views show, without VS Code: a step-through's stop, checked where it enters the
// extension and answering the views' questions as the session's analyzer does; and the flows of
// the adapter's `lockscope/flows` event, malformed ones left out rather than thrown on.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Analyzer } from 'lockscope/analysis';
import { twoLockDeadlock } from '../trace-builder.js';
import { parseSteppedReport, steppedView } from '../../extension/src/shown.js';
import { parseFlowMarks } from '../../extension/src/step-plan.js';

/** A stop whose run is deadlocked: two tasks, two locks, taken in opposite orders. */
function stop(): { step: number; report: unknown; state: unknown } {
  const analyzer = new Analyzer();
  const stream = {};
  const trace = twoLockDeadlock();
  trace.text();
  for (const m of trace.messages) analyzer.accept(stream, m);
  return { step: 3, report: analyzer.report(), state: analyzer.state() };
}

describe('a stepped run shown in the views', () => {
  test("a stop's report is taken, and answers as an analyzer does", () => {
    const body = stop();
    const stepped = parseSteppedReport(body);
    assert.ok(typeof stepped !== 'string', typeof stepped === 'string' ? stepped : '');
    const view = steppedView(stepped);
    assert.equal(stepped.step, 3);
    assert.equal(view.findings[0]?.kind, 'deadlock');
    assert.equal(view.findings, stepped.report.findings);
    assert.equal(view.report(), stepped.report);
    assert.equal(view.siteStats(), stepped.report.stats.sites);
    assert.equal(view.state(), stepped.state);
  });

  test('a malformed stop is refused with what is wrong', () => {
    const cases: [string, (b: Record<string, unknown>) => void, RegExp][] = [
      ['no step', (b) => delete b.step, /step must be a whole number/],
      ['a negative step', (b) => (b.step = -1), /step must be a whole number/],
      ['no report', (b) => delete b.report, /version 1 report/],
      [
        'findings not a list',
        (b) => ((b.report as Record<string, unknown>).findings = 'x'),
        /version 1 report/,
      ],
      ['no stats', (b) => delete (b.report as Record<string, unknown>).stats, /report\.stats/],
      [
        'a site that is not a place',
        (b) => ((b.report as { findings: { sites: unknown[] }[] }).findings[0]!.sites[0] = null),
        /every site of a finding needs a file, a line and a column/,
      ],
      [
        'a finding without a severity',
        (b) => delete (b.report as { findings: { severity?: unknown }[] }).findings[0]!.severity,
        /needs an id, a kind, a severity/,
      ],
      ['no state', (b) => delete b.state, /state must list its processes/],
      [
        'a process without tasks',
        (b) => ((b.state as { processes: unknown[] }).processes = [{ threads: [], resources: [] }]),
        /threads, tasks and resources/,
      ],
    ];
    for (const [what, spoil, reason] of cases) {
      const body = stop() as unknown as Record<string, unknown>;
      spoil(body);
      const result = parseSteppedReport(body);
      assert.ok(typeof result === 'string', `${what} was taken`);
      assert.match(result, reason, what);
    }
    assert.equal(parseSteppedReport(null), 'the body must be an object');
  });

  test('flows that are not flows are left out and counted', () => {
    const good = { name: 'dine #1', state: 'ready', why: 'is about to acquire fork 0' };
    const at = { file: '/a.ts', line: 3, column: 1 };
    const parsed = parseFlowMarks({
      flows: [
        good,
        { ...good, at },
        null,
        { ...good, at: { file: '/a.ts', line: 0, column: 1 } },
        { name: 1 },
      ],
    });
    assert.deepEqual(parsed.marks, [good, { ...good, at }]);
    assert.equal(parsed.ignored, 3);
    assert.deepEqual(parseFlowMarks({}), { marks: [], ignored: 1 });
  });
});
