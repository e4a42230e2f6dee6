// The files the graph panel may open: only those the report names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reportFiles } from '../../extension/src/report-files.js';
import { analyzeTrace } from '../../runtime-probe/src/analysis/trace.js';
import { FILE, twoLockDeadlock } from '../trace-builder.js';

describe('reportFiles', () => {
  it("names the files of the report's sites, and nothing else", () => {
    const report = analyzeTrace(twoLockDeadlock().text()).report();
    const files = reportFiles(report);
    assert.ok(files.has(FILE), [...files].join(', '));
    assert.ok(!files.has('\\\\server\\share\\x.ts'));
    assert.ok(!files.has('/etc/passwd'));
  });

  it('takes the file of a statistics key, whose path may hold colons', () => {
    const report = analyzeTrace(twoLockDeadlock().text()).report();
    report.findings = [];
    report.timeline.intervals = [];
    report.stats.sites = [{ ...report.stats.resources[0]!, key: 'C:/app/a.ts:12:5' }];
    assert.deepEqual([...reportFiles(report)], ['C:/app/a.ts']);
  });
});
