// The webview's pure parts, on plain Node: the host <-> webview protocol (every message validated
// on receipt, the packed time line, the saved state), the time index behind playback, and the
// wait-for picture at a moment, from recorded traces.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { webviewHtml } from '../../extension/src/webview-html.js';
import { analyzeTrace } from '../../runtime-probe/src/analysis/trace.js';
import type { Report, TimelineInterval } from '../../runtime-probe/src/analysis/types.js';
import { Model } from '../../webview/src/model/model.js';
import { pictureAt } from '../../webview/src/model/picture.js';
import { buildRows } from '../../webview/src/model/rows.js';
import {
  parseState,
  parseToHost,
  parseToWebview,
  reportMessage,
  type PackedTimeline,
} from '../../webview/src/protocol.js';

function trace(name: string): Report {
  const url = new URL(`../fixtures/traces/${name}.jsonl`, import.meta.url);
  return analyzeTrace(readFileSync(url, 'utf8')).report();
}

/** A seeded generator, so that a failing case can be replayed. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

function emptyReport(intervals: TimelineInterval[]): Report {
  return {
    version: 1,
    origin: 0,
    findings: [],
    processes: [],
    stats: { resources: [], sites: [] },
    graph: { nodes: [], edges: [], order: [] },
    timeline: { lanes: [], intervals, omitted: 0 },
    resources: [],
  };
}

describe('webview protocol', () => {
  it('accepts the commands the webview sends, and nothing else', () => {
    assert.deepEqual(parseToHost({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parseToHost({ type: 'openSource', file: '/a.ts', line: 3, column: 7 }), {
      type: 'openSource',
      file: '/a.ts',
      line: 3,
      column: 7,
    });
    assert.match(
      parseToHost({ type: 'openSource', file: '/a.ts', line: 3, column: 0 }) as string,
      /column must be/,
    );
    assert.match(
      parseToHost({ type: 'openSource', file: '/a.ts', line: 2.5 }) as string,
      /line must be/,
    );
    assert.match(parseToHost({ type: 'openSource', file: '', line: 1 }) as string, /file must be/);
    assert.match(parseToHost('ready') as string, /must be an object/);
  });

  it('packs a time line into columns that unpack to the same intervals', () => {
    const report = trace('dining-philosophers');
    const message = reportMessage(report, true, 20_000);
    assert.equal(message.report.timeline.intervals.length, 0, 'the intervals travel packed');
    const parsed = parseToWebview(JSON.parse(JSON.stringify(message)));
    assert.ok(typeof parsed !== 'string', typeof parsed === 'string' ? parsed : '');
    const model = new Model(parsed.report, parsed.live, parsed.timeline);
    assert.equal(model.n, report.timeline.intervals.length);
    report.timeline.intervals.forEach((v, i) => {
      assert.equal(model.tasks[model.task[i]!]!.key, v.task);
      assert.equal(model.resources[model.resource[i]!]!.key, v.resource);
      assert.equal(model.kind[i], v.type === 'wait' ? 1 : 0);
      assert.equal(model.start[i], v.start);
      assert.equal(model.end[i], v.end ?? Infinity);
      const site = model.siteOf(i)!;
      assert.deepEqual(
        { file: site.file, line: site.line, column: site.column, stack: site.stack },
        { file: v.site!.file, line: v.site!.line, column: v.site!.column, stack: v.site!.stack },
      );
    });
    // Sites are interned: ten intervals at two places of the program.
    assert.ok(parsed.timeline!.sites.length <= 4);
  });

  it('keeps the most recent intervals and counts the others as omitted', () => {
    const intervals: TimelineInterval[] = Array.from({ length: 10 }, (_, i) => ({
      task: '1:1',
      resource: '1:r1',
      type: 'hold',
      start: i * 10,
      end: i * 10 + 5,
    }));
    const m = reportMessage(emptyReport(intervals), false, 4);
    assert.deepEqual(m.timeline!.start, [60, 70, 80, 90]);
    assert.equal(m.report.timeline.omitted, 6);
  });

  it('refuses a packed time line that does not hold together', () => {
    const good = reportMessage(trace('dining-philosophers'), true, 100);
    const broken = (change: (p: PackedTimeline) => void): string => {
      const m = JSON.parse(JSON.stringify(good)) as { timeline: PackedTimeline };
      change(m.timeline);
      return parseToWebview(m) as string;
    };
    assert.match(
      broken((p) => (p.task[0] = 99)),
      /interval 0 is malformed/,
    );
    assert.match(
      broken((p) => (p.start[1] = -1)),
      /interval 1 is malformed/,
    );
    assert.match(
      broken((p) => (p.end[2] = p.start[2]! - 1)),
      /interval 2 is malformed/,
    );
    assert.match(
      broken((p) => (p.kind[0] = 2)),
      /interval 0 is malformed/,
    );
    assert.match(
      broken((p) => p.site.pop()),
      /site must be an array as long as the others/,
    );
    assert.match(
      broken((p) => (p.sites = [{ file: 3 } as never])),
      /sites must be source sites/,
    );
    assert.match(
      broken((p) => (p.tasks = [7 as never])),
      /tasks and resources must be strings/,
    );
    const noGraph = JSON.parse(JSON.stringify(good)) as { report: { graph: unknown } };
    noGraph.report.graph = null;
    assert.match(parseToWebview(noGraph) as string, /graph must have nodes/);
    assert.match(parseToWebview({ type: 'didChange' }) as string, /unknown message type/);
  });

  it('refuses a report whose intervals are not intervals', () => {
    const report = trace('dining-philosophers');
    (report.timeline.intervals[0] as { start: unknown }).start = 'soon';
    assert.match(
      parseToWebview({ type: 'didReport', report, live: false }) as string,
      /every interval needs/,
    );
  });

  it('reads a saved state, forgetting what it cannot read', () => {
    assert.deepEqual(parseState(undefined), {
      version: 1,
      paused: false,
      tab: 'wait-for',
      search: '',
    });
    assert.deepEqual(parseState({ version: 2, paused: true }).paused, false);
    const state = parseState({
      version: 1,
      paused: true,
      time: 1200,
      tab: 'lock-order',
      graph: { x: 1, y: 2, k: 0.5 },
      timeline: { t0: 10, t1: 5, scrollTop: 0 },
      search: 'x'.repeat(500),
      selected: { kind: 'interval', task: '1:1', resource: '1:r1', start: 5 },
    });
    assert.equal(state.paused, true);
    assert.equal(state.time, 1200);
    assert.equal(state.tab, 'lock-order');
    assert.deepEqual(state.graph, { x: 1, y: 2, k: 0.5 });
    assert.equal(state.timeline, undefined, 'an empty span is dropped');
    assert.equal(state.search.length, 200);
    assert.deepEqual(state.selected, { kind: 'interval', task: '1:1', resource: '1:r1', start: 5 });
    assert.equal(parseState({ version: 1, selected: { kind: 'node' } }).selected, undefined);
    assert.equal(parseState({ version: 1, graph: { x: 0, y: 0, k: -1 } }).graph, undefined);
  });

  it('writes a document with a strict content security policy', () => {
    const html = webviewHtml({
      cspSource: 'https://x.vscode-cdn.net',
      scriptUri: 'https://x.vscode-cdn.net/main.js',
      styleUri: 'https://x.vscode-cdn.net/main.css',
      nonce: 'abc123',
    });
    const csp = /Content-Security-Policy" content="([^"]*)"/.exec(html)![1]!;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-abc123'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(
      html,
      /<script nonce="abc123" src="https:\/\/x.vscode-cdn.net\/main.js"><\/script>/,
    );
    assert.equal(html.match(/<script/g)!.length, 1, 'no inline script');
  });
});

describe('webview time index', () => {
  it('finds the intervals active at any moment, as a scan of them all would', () => {
    const next = random(7);
    const intervals: TimelineInterval[] = [];
    for (let i = 0; i < 3000; i++) {
      const start = Math.floor(next() * 100_000);
      // Mostly short, a few very long, some still open at the end.
      const length = next() < 0.02 ? Math.floor(next() * 100_000) : Math.floor(next() * 300);
      const open = next() < 0.01;
      intervals.push({
        task: `1:${1 + Math.floor(next() * 50)}`,
        resource: `1:r${Math.floor(next() * 20)}`,
        type: next() < 0.3 ? 'wait' : 'hold',
        start,
        ...(open ? {} : { end: start + length }),
      });
    }
    const model = new Model(emptyReport(intervals), false);
    for (let k = 0; k < 400; k++) {
      const t = k % 10 === 0 ? intervals[k]!.start : Math.floor(next() * 110_000);
      const expected = intervals
        .map((v, i) => (v.start <= t && (v.end ?? Infinity) > t ? i : -1))
        .filter((i) => i >= 0);
      assert.deepEqual(
        model.activeAt(t).sort((a, b) => a - b),
        expected,
        `at ${t}`,
      );
    }
  });

  it('steps from one moment something happens to the next', () => {
    const model = new Model(
      emptyReport([
        { task: '1:1', resource: '1:r1', type: 'hold', start: 10, end: 30 },
        { task: '1:2', resource: '1:r1', type: 'wait', start: 20, end: 30 },
        { task: '1:2', resource: '1:r1', type: 'hold', start: 30 },
      ]),
      false,
    );
    assert.deepEqual([...model.boundaries], [10, 20, 30]);
    assert.equal(model.nextBoundary(10), 20);
    assert.equal(model.nextBoundary(25), 30);
    assert.equal(model.nextBoundary(30), undefined);
    assert.equal(model.previousBoundary(30), 20);
    assert.equal(model.previousBoundary(10), undefined);
    assert.equal(model.boundaryCount(29), 2);
    assert.equal(model.first, 10);
    assert.equal(model.last, 30);
  });
});

describe('webview timeline rows', () => {
  it('puts overlapping intervals of a task in rows of their own, searchable by time', () => {
    const next = random(11);
    const intervals: TimelineInterval[] = [];
    let t = 0;
    for (let i = 0; i < 500; i++) {
      t += Math.floor(next() * 50);
      intervals.push({
        task: `1:${1 + (i % 3)}`,
        resource: `1:r${i % 7}`,
        type: next() < 0.5 ? 'hold' : 'wait',
        start: t,
        end: t + Math.floor(next() * 200),
      });
    }
    const model = new Model(emptyReport(intervals), false);
    const rows = buildRows(model);
    let placed = 0;
    rows.forEach((lane, task) => {
      assert.ok(lane.length <= 6);
      for (const [r, row] of lane.entries()) {
        placed += row.ids.length;
        for (let k = 1; k < row.ids.length; k++) {
          const id = row.ids[k]!;
          assert.equal(model.task[id], task);
          assert.ok(row.starts[k]! >= row.starts[k - 1]!, 'sorted by start');
          assert.ok(row.maxEnd[k]! >= row.maxEnd[k - 1]!, 'largest end so far');
          // Below the last row, intervals in a row never overlap.
          if (r < lane.length - 1 || lane.length < 6) {
            assert.ok(model.start[id]! >= model.end[row.ids[k - 1]!]!, 'no overlap in a row');
          }
        }
      }
    });
    assert.equal(placed, intervals.length);
  });
});

describe('webview picture at a moment', () => {
  it('shows the dining philosophers cycle from the moment it closes, and not before', () => {
    const report = trace('dining-philosophers');
    const model = new Model(report, false);
    const at = report.findings[0]!.at;
    const end = pictureAt(model, model.last, true);
    assert.equal(end.edges.filter((e) => e.cycle).length, 10);
    assert.equal(end.cycles.length, 1);
    const closing = pictureAt(model, at, false);
    assert.equal(closing.edges.filter((e) => e.cycle).length, 10);
    assert.deepEqual(closing.cycles[0]!.nodes.length, 10);
    const before = pictureAt(model, model.previousBoundary(at)!, false);
    assert.equal(before.edges.filter((e) => e.cycle).length, 0);
    assert.equal(before.cycles.length, 0);
    // Every philosopher holds a fork; four of them already wait for the next one.
    assert.equal(before.edges.filter((e) => e.type === 'holds').length, 5);
    assert.equal(before.edges.filter((e) => e.type === 'waits').length, 4);
    assert.equal(before.nodes.find((n) => n.detail === 'running')?.type, 'task');
    const start = pictureAt(model, model.first, false);
    assert.equal(start.edges.length, 1, 'at the first event, one fork is held');
  });

  it('shows a cross-thread deadlock whole when it happened, and nothing of it once its threads ended', () => {
    const report = trace('cross-thread-deadlock');
    const model = new Model(report, false);
    const deadlock = report.findings.find((f) => f.kind === 'deadlock')!;
    const then = pictureAt(model, deadlock.at, false);
    assert.equal(then.edges.filter((e) => e.cycle).length, 4);
    assert.deepEqual(
      new Set(then.nodes.filter((n) => n.type === 'task').map((n) => n.cluster)).size,
      2,
      'the two workers are on two threads',
    );
    // The program then terminated both workers: their waits and holds ended with their threads.
    const end = pictureAt(model, model.last, true);
    assert.deepEqual(end.edges, []);
  });

  it('draws an inverted lock order between two resources that are both in the picture', () => {
    const report = trace('lock-order-inversion');
    const model = new Model(report, false);
    const moments = [...model.boundaries];
    const orders = moments.map((t) =>
      pictureAt(model, t, false).edges.filter((e) => e.type === 'order'),
    );
    assert.ok(
      orders.some((o) => o.length > 0),
      'somewhere both locks are held or waited for',
    );
    for (const [i, o] of orders.entries()) {
      const picture = pictureAt(model, moments[i]!, false);
      const keys = new Set(picture.nodes.map((n) => n.key));
      for (const e of o) assert.ok(keys.has(e.source) && keys.has(e.target));
    }
  });
});
