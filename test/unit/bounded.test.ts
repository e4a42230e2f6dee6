/**
 * Bounded memory and streaming, piece by piece: resources the program dropped are forgotten with
 * their statistics kept by class, traces are read line by line, and reports are written in pieces
 * that add up to exactly what JSON.stringify gives.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Analyzer } from '../../runtime-probe/src/analysis/engine.js';
import { analyzeTrace, linesOf } from '../../runtime-probe/src/analysis/trace.js';
import { LogHistogram } from '../../runtime-probe/src/analysis/histogram.js';
import { OrderGraph } from '../../runtime-probe/src/analysis/order.js';
import { SmallMap } from '../../runtime-probe/src/analysis/small-map.js';
import { EventFormatter } from '../../runtime-probe/src/format.js';
import { pageReport } from '../../runtime-probe/src/report/html.js';
import { writeJson } from '../../runtime-probe/src/report/json-writer.js';
import { traceLines, TraceFileError } from '../../runtime-probe/src/trace-file.js';
import { decodeLine, type Message } from '../../runtime-probe/src/protocol.js';
import { TraceBuilder } from '../trace-builder.js';

const dir = mkdtempSync(join(tmpdir(), 'lockscope-bounded-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Three short-lived mutexes of one class, each taken once; the first two are then collected. */
function shortLived(): TraceBuilder {
  const b = new TraceBuilder().task(1, 'main', 'main').site(10);
  for (const id of [2, 3, 4]) {
    b.resource(id, 'mutex', `short ${id}`, 'app.ts:3:5')
      .ev(id * 10, 'acquired', 1, id, 10)
      .ev(id * 10 + 4, 'released', 1, id);
  }
  return b.ev(50, 'collected', 1, 2).ev(51, 'collected', 1, 3);
}

describe('forgetting resources the program dropped', () => {
  test('a collected resource leaves its state, and its statistics go to its class', () => {
    const report = analyzeTrace(shortLived().text()).report();
    const stats = report.stats.resources;
    assert.deepEqual(
      stats.map((s) => [s.name, s.acquisitions, s.resources]),
      [
        ['short 4', 1, undefined],
        ['short 2', 2, 2],
      ],
    );
    // The time line still names them.
    const keys = new Set(report.resources.map((r) => r.key));
    for (const iv of report.timeline.intervals) assert.ok(keys.has(iv.resource));
  });

  test('one still held is kept, and a collected event for an unknown one is ignored', () => {
    const b = new TraceBuilder().task(1, 'main', 'main').site(10);
    b.resource(2, 'mutex', 'held', 'app.ts:3:5').ev(10, 'acquired', 1, 2, 10);
    b.ev(20, 'collected', 1, 2).ev(21, 'collected', 1, 99);
    const report = analyzeTrace(b.text()).report();
    assert.deepEqual(
      report.stats.resources.map((s) => s.name),
      ['held'],
    );
    assert.ok(!report.resources.some((r) => r.name === 'resource 99'));
  });

  test('the lock order forgets the instance nodes of a collected lock', () => {
    const g = new OrderGraph<string, number>();
    const o = (from: string, to: string, task: number) => ({
      from,
      to,
      task,
      fromSite: 0,
      toSite: 0,
      gates: [],
    });
    g.observe('#a', '#b', o('a', 'b', 1));
    g.observe('#c', '#a', o('c', 'a', 1));
    g.forget('#a', () => false);
    assert.deepEqual([...g.edges()], []);
    // With the nodes gone, the reverse order closes no cycle.
    assert.equal(g.observe('#b', '#c', o('b', 'c', 2)), undefined);
  });
});

describe('small pieces of the model', () => {
  test('SmallMap keeps its first entry in fields and the rest in arrays', () => {
    const m = new SmallMap<string, number>();
    m.set('a', 1).set('b', 2).set('c', 3);
    assert.equal(m.size, 3);
    assert.ok(m.delete('a'));
    assert.deepEqual(m.entries().sort(), [
      ['b', 2],
      ['c', 3],
    ]);
    assert.ok(m.delete('c') && m.delete('b'));
    assert.equal(m.size, 0);
    assert.equal(m.get('b'), undefined);
  });

  test('a histogram merges, and counts extra zeros first', () => {
    const a = new LogHistogram();
    a.add(100);
    const b = new LogHistogram();
    b.add(100);
    b.add(10_000);
    a.merge(b);
    assert.equal(a.count, 3);
    assert.equal(a.max, 10_000);
    assert.equal(a.summary(97).p50, 0);
    assert.equal(a.summary(97).count, 100);
    assert.ok(a.summary().p50 > 90 && a.summary().p50 < 110);
  });
});

describe('traces read line by line', () => {
  const text = shortLived().text();

  test('the lines of a file are those of its text, whatever the chunk size', () => {
    const file = join(dir, 'trace.jsonl');
    writeFileSync(file, text + '{"t":"events","thr'); // a cut last line
    const expected = [...linesOf(text + '{"t":"events","thr')];
    for (const chunk of [7, 64, 1 << 20]) assert.deepEqual([...traceLines(file, chunk)], expected);
    assert.equal(expected.at(-1)!.last, true);
  });

  test(
    'a FIFO or a folder is refused at once, by code',
    { skip: process.platform === 'win32' },
    () => {
      const fifo = join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      assert.throws(
        () => [...traceLines(fifo)],
        (e: unknown) => e instanceof TraceFileError && e.code === 'not-a-file',
      );
      assert.throws(
        () => [...traceLines(dir)],
        (e: unknown) => e instanceof TraceFileError && e.code === 'folder',
      );
    },
  );

  test('events forget what has ended or been collected', () => {
    const fmt = new EventFormatter();
    for (const line of text.split('\n')) {
      const r = line ? decodeLine(line, 'test') : undefined;
      if (r?.ok) fmt.format(r.message as Message);
    }
    assert.deepEqual([...fmt.resources.keys()], [4]);
  });
});

describe('reports written in pieces', () => {
  test('the JSON is exactly what JSON.stringify makes', () => {
    const report = analyzeTrace(shortLived().text()).report();
    for (const indent of [0, 2]) {
      let out = '';
      writeJson(report, (p) => (out += p), { indent });
      assert.equal(out, JSON.stringify(report, null, indent));
    }
    // The streamed report, its long lists made as they are written, is the same JSON.
    const analyzer = analyzeTrace(shortLived().text());
    let streamed = '';
    writeJson(analyzer.streamedReport(), (p) => (streamed += p), { indent: 2 });
    assert.equal(streamed, JSON.stringify(analyzer.report(), null, 2));
    let escaped = '';
    writeJson({ name: '</script>' }, (p) => (escaped += p), { escapeLt: true });
    assert.equal(escaped, '{"name":"\\u003c/script>"}');
  });

  test('the page keeps the last intervals and the resources they name', () => {
    const report = analyzeTrace(shortLived().text()).report();
    const page = pageReport(report, 1);
    assert.equal(page.timeline.intervals.length, 1);
    assert.equal(page.timeline.omitted, report.timeline.intervals.length - 1);
    const named = new Set(page.resources.map((r) => r.key));
    assert.ok(named.has(page.timeline.intervals[0]!.resource));
    assert.ok(page.resources.length < report.resources.length);
  });
});

describe('a session of many short runs', () => {
  test('keeps the last ended processes and the findings of all', () => {
    const analyzer = new Analyzer({ maxEndedProcesses: 3 });
    for (let run = 0; run < 10; run++) {
      const stream = {};
      const b = new TraceBuilder(1000 + run).task(1, 'main', 'main').site(10);
      b.resource(2, 'mutex', `lock ${run}`, `app.ts:${run}:5`).ev(10, 'acquired', 1, 2, 10);
      // A double release: a misuse finding in every run.
      b.ev(15, 'released', 1, 2).ev(20, 'misuse', 1, 2, 10, 1).end(30);
      for (const m of b.messages) analyzer.accept(stream, m);
      analyzer.endStream(stream);
    }
    const report = analyzer.report();
    assert.deepEqual(
      report.processes.map((p) => p.pid),
      [1007, 1008, 1009],
    );
    assert.equal(report.findings.length, 10);
    assert.deepEqual(
      report.stats.resources.map((s) => s.name),
      ['lock 7', 'lock 8', 'lock 9'],
    );
  });
});
