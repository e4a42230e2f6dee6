/**
 * Certainty: a finding the data cannot support definitely (a task whose identity the probe could
 * not decide, events lost before it) is uncertain, never an error, shown as such everywhere, and
 * makes the run inconclusive rather than failed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeTrace } from '../../runtime-probe/src/analysis/trace.js';
import { formatReport } from '../../runtime-probe/src/analysis/text.js';
import { EXIT, verdict } from '../../runtime-probe/src/exit-status.js';
import { diagnosticsFor, hoverMarkdown } from '../../extension/src/presenter.js';
import { TraceBuilder } from '../trace-builder.js';

/** alice and bob each take one lock and wait for the other's; `uncertain` marks bob. */
function deadlock(uncertain: boolean, dropped = 0): TraceBuilder {
  const b = new TraceBuilder()
    .task(1, 'alice')
    .task(2, 'bob', 'flow', 0, uncertain)
    .resource(11, 'mutex', 'a')
    .resource(12, 'mutex', 'b')
    .site(10)
    .site(11)
    .site(12)
    .site(13)
    .ev(0, 'acquired', 1, 11, 10)
    .ev(1, 'acquired', 2, 12, 12)
    .ev(2, 'request', 1, 12, 11)
    .ev(3, 'request', 2, 11, 13);
  if (dropped > 0) b.messages.push({ t: 'heartbeat', ts: b.origin + 1, produced: 10, dropped });
  return b.idle(10);
}

const fails = (f: { severity: string }): boolean => f.severity === 'error';

describe('certainty', () => {
  it('reports a deadlock between exactly known tasks as an exact error', () => {
    const report = analyzeTrace(deadlock(false).text()).report();
    const [f] = report.findings;
    assert.equal(report.findings.length, 1);
    assert.equal(f!.kind, 'deadlock');
    assert.equal(f!.certainty, 'exact');
    assert.equal(f!.uncertainty, undefined);
    assert.equal(f!.severity, 'error');
    assert.equal(verdict(report, fails, false).status, EXIT.failed);
  });

  it('marks a deadlock through a task of uncertain identity uncertain: a warning, exit 3', () => {
    const report = analyzeTrace(deadlock(true).text()).report();
    const [f] = report.findings;
    assert.equal(report.findings.length, 1);
    assert.equal(f!.kind, 'deadlock');
    assert.equal(f!.certainty, 'uncertain');
    assert.deepEqual(f!.uncertainty, ['identity']);
    assert.equal(f!.severity, 'warning');
    assert.deepEqual(
      f!.tasks.map((t) => [t.name, t.uncertain ?? false]),
      [
        ['alice', false],
        ['bob ?', true],
      ],
    );
    const v = verdict(report, fails, false);
    assert.equal(v.status, EXIT.inconclusive);
    assert.match(v.inconclusive ?? '', /uncertain \(identity\)/);
    // Named kinds in --fail-on do not fail the run on an uncertain finding either.
    assert.equal(verdict(report, (x) => x.kind === 'deadlock', false).status, EXIT.inconclusive);
  });

  it('says why wherever the finding is shown', () => {
    const report = analyzeTrace(deadlock(true).text()).report();
    const f = report.findings[0]!;
    const text = formatReport(report, { color: false, cwd: '/', readSource: () => undefined });
    assert.match(text, /uncertain: This finding is uncertain: Lockscope could not tell/);
    const specs = [...diagnosticsFor(report.findings).values()].flat();
    assert.ok(specs.length > 0);
    for (const spec of specs) {
      assert.match(spec.message, /This finding is uncertain/);
      assert.ok(spec.inline.startsWith('?'), spec.inline);
    }
    assert.match(hoverMarkdown(f), /This finding is uncertain/);
  });

  it('marks a finding made after events were lost uncertain (gap)', () => {
    const report = analyzeTrace(deadlock(false, 3).text()).report();
    const [f] = report.findings;
    assert.equal(f!.certainty, 'uncertain');
    assert.deepEqual(f!.uncertainty, ['gap']);
    assert.equal(f!.severity, 'warning');
  });
});
