// What the views show, without VS Code: a step-through's stop, checked where it enters the
// extension and answering the views' questions as the session's analyzer does; and the flows of
// the adapter's `lockscope/flows` event, malformed ones left out rather than thrown on.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Analyzer } from 'lockscope/analysis';
import { parseSteppedReport, steppedView } from '../../extension/src/shown.js';
import { parseFlowMarks } from '../../extension/src/step-plan.js';

function stop(): { step: number; report: unknown; state: unknown } {
  const analyzer = new Analyzer();
  return { step: 3, report: analyzer.report(), state: analyzer.state() };
}

describe('a stepped run shown in the views', () => {
  test("a stop's report is taken, and answers as an analyzer does", () => {
    const body = stop();
    const stepped = parseSteppedReport(body);
    assert.ok(typeof stepped !== 'string', typeof stepped === 'string' ? stepped : '');
    const view = steppedView(stepped);
    assert.equal(stepped.step, 3);
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
