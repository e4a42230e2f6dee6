// The analysis on traces recorded from the examples (test/fixtures/traces, written with
// LOCKSCOPE_TRACE): real event streams, with the probe's own ordering, registries and heartbeats.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { analyzeTrace } from '../../runtime-probe/src/analysis/trace.js';
import type { Finding } from '../../runtime-probe/src/analysis/types.js';

function analyse(name: string): Finding[] {
  const file = resolve(import.meta.dirname, '../fixtures/traces', `${name}.jsonl`);
  return analyzeTrace(readFileSync(file, 'utf8')).findings;
}

const lines = (f: Finding): string[] =>
  [...new Set(f.sites.map((s) => `${basename(s.file)}:${s.line}`))].sort();

describe('recorded traces', () => {
  test('dining philosophers: one deadlock of five, at the two acquisitions', () => {
    const [f, ...rest] = analyse('dining-philosophers');
    assert.equal(rest.length, 0);
    assert.equal(f?.kind, 'deadlock');
    assert.equal(f.tasks.length, 5);
    assert.deepEqual(f.resources.map((r) => r.name).sort(), [
      'fork 0',
      'fork 1',
      'fork 2',
      'fork 3',
      'fork 4',
    ]);
    assert.deepEqual(lines(f), ['dining-philosophers.ts:31', 'dining-philosophers.ts:34']);
    assert.equal(f.cycle?.length, 5);
  });

  test("Dijkstra's ordered philosophers: nothing to report, though forks of one class nest", () => {
    assert.deepEqual(analyse('dining-philosophers-ordered'), []);
  });

  test('opposite orders at different times: the inversion, and nothing else', () => {
    const all = analyse('lock-order-inversion');
    assert.deepEqual(
      all.map((f) => f.kind),
      ['lock-order-inversion'],
    );
    assert.deepEqual(all[0]!.tasks.map((t) => t.name).sort(), ['report', 'transfer']);
  });

  test('two workers deadlocked on shared mutexes, then terminated: the deadlock, then the abandoned locks', () => {
    const all = analyse('cross-thread-deadlock');
    assert.deepEqual(
      all.map((f) => f.kind),
      ['deadlock', 'abandoned-lock', 'abandoned-lock'],
    );
    const [deadlock] = all;
    assert.deepEqual(deadlock!.tasks.map((t) => t.name).sort(), ['worker 1', 'worker 2']);
    assert.deepEqual(lines(deadlock!), [
      'cross-thread-deadlock-worker.mjs:13',
      'cross-thread-deadlock-worker.mjs:16',
    ]);
  });
});
