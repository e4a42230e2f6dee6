// The exit-status decision of every lockscope command, on plain reports.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Finding, Report } from '../../runtime-probe/src/analysis/types.js';
import { describeExit, EXIT, verdict } from '../../runtime-probe/src/exit-status.js';

function report(parts: Partial<Report> = {}): Report {
  return {
    version: 1,
    origin: 0,
    findings: [],
    processes: [{ pid: 1, title: 'node', threads: [0], produced: 4, dropped: 0, events: 4 }],
    stats: { resources: [], sites: [] },
    graph: { nodes: [], edges: [], order: [] },
    timeline: { lanes: [], intervals: [], omitted: 0 },
    resources: [],
    ...parts,
  };
}
const finding = { kind: 'deadlock', severity: 'error' } as Finding;
const errors = (f: Finding): boolean => f.severity === 'error';
const task = (label: string, detail: string) =>
  ({ key: label, type: 'task', label, detail, pid: 1, thread: 0 }) as const;

describe('exit status', () => {
  test('clean, failing finding, failed program', () => {
    assert.deepEqual(verdict(report(), errors, false), { status: EXIT.clean });
    assert.equal(verdict(report({ findings: [finding] }), errors, false).status, EXIT.failed);
    assert.equal(verdict(report({ findings: [finding] }), () => false, false).status, EXIT.clean);
    assert.equal(verdict(report(), errors, true).status, EXIT.failed);
  });

  test('lost events make the run inconclusive, with or without a finding, and say how many', () => {
    const lossy = { processes: [{ ...report().processes[0]!, dropped: 7 }] };
    const v = verdict(report({ ...lossy, findings: [finding] }), errors, false);
    assert.equal(v.status, EXIT.inconclusive);
    assert.match(v.inconclusive ?? '', /^7 events were lost/);
    assert.equal(verdict(report(lossy), errors, false).status, EXIT.inconclusive);
    assert.equal(verdict(report(lossy), errors, true).status, EXIT.failed);
  });

  test('a refused connection makes the run inconclusive: a process may have gone unobserved', () => {
    const v = verdict(report({ findings: [finding] }), errors, false, false, 2);
    assert.equal(v.status, EXIT.inconclusive);
    assert.match(v.inconclusive!, /2 connections were refused/);
    assert.equal(verdict(report(), errors, false, false, 1).status, EXIT.inconclusive);
    assert.equal(verdict(report(), errors, true, false, 1).status, EXIT.failed);
  });

  test('flows still blocked at the end, with nothing found, never make a clean run', () => {
    const graph = {
      nodes: [task('consumer', 'blocked'), task('main', 'ended')],
      edges: [],
      order: [],
    };
    const v = verdict(report({ graph }), errors, false);
    assert.equal(v.status, EXIT.inconclusive);
    assert.match(v.inconclusive ?? '', /1 flow was still blocked .*\(consumer\)/);
    // A program that lockscope stopped (--timeout, Ctrl+C) had not ended: its waits say nothing.
    assert.equal(verdict(report({ graph }), errors, false, true).status, EXIT.clean);
  });

  test('what a status means', () => {
    assert.match(describeExit({ code: 13, signal: null }), /code 13 \(.*top-level await/);
    assert.match(describeExit({ code: 0, signal: null }), /^exited with code 0$/);
    assert.match(describeExit({ code: null, signal: 'SIGKILL' }), /signal SIGKILL \(killed/);
  });
});
