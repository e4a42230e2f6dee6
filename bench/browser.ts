/**
 * The webview in headless Chromium (Debian's `chromium`, through playwright-core): the bundle the
 * extension ships, loaded as the browser tests load it (test/browser/harness.ts).
 *
 * - graph_1000_nodes_fps: a wait-for graph of 1,000 nodes (600 tasks on four threads, 400 locks)
 *   whose layout is kept moving while the view pans every frame; the frames the graph drew per
 *   second.
 * - stream_10k_events_per_sec_dropped_frames_pct: a program producing 10,000 events a second
 *   (tasks taking and releasing 100 contended locks) analysed by the real Analyzer, its reports
 *   posted as the host posts them (every 200 ms, the newest 20,000 intervals, packed) for five
 *   seconds; the share of frames missed, from requestAnimationFrame deltas (a delta of two
 *   frame periods is one missed frame).
 * - timeline_1m_events_scroll_ms_per_frame: a time line of a million events (500,000 intervals,
 *   2,000 lanes) scrolled, zoomed and panned every frame; the mean time between frames.
 *
 * Run alone: npx tsx bench/browser.ts
 */
import { Analyzer } from '../runtime-probe/src/analysis/engine.js';
import { StreamSession } from '../runtime-probe/src/collector.js';
import type { LockscopeDebug } from '../webview/src/debug.js';
import {
  didReport,
  ensureWebviewBuild,
  launch,
  openWebview,
  type WebviewPage,
} from '../test/browser/harness.js';
import type { Report } from '../runtime-probe/src/analysis/types.js';
import type { Browser } from 'playwright-core';

const FRAME_MS = 1000 / 60;

export interface WebviewMeasurements {
  graph1000Fps: number;
  stream10kDroppedFramesPct: number;
  timeline1mScrollMsPerFrame: number;
}

export async function measureWebview(): Promise<WebviewMeasurements> {
  ensureWebviewBuild();
  const browser = await launch();
  try {
    return {
      graph1000Fps: await graphFps(browser),
      stream10kDroppedFramesPct: await streamDroppedFrames(browser),
      timeline1mScrollMsPerFrame: await timelineScroll(browser),
    };
  } finally {
    await browser.close();
  }
}

// ---------------------------------------------------------------------------------------------
// A thousand nodes

async function graphFps(browser: Browser): Promise<number> {
  const w = await openWebview(browser, { width: 1400, height: 900 });
  try {
    await w.post(didReport(graphReport(600, 400), true));
    await w.page.waitForFunction(
      () =>
        (globalThis as unknown as { __lockscope: LockscopeDebug }).__lockscope.snapshot().graph
          .frames > 0,
    );
    return await w.page.evaluate(
      (ms) =>
        new Promise<number>((resolve) => {
          const lockscope = (globalThis as unknown as { __lockscope: LockscopeDebug }).__lockscope;
          const raf = (
            globalThis as unknown as { requestAnimationFrame: (f: (t: number) => void) => void }
          ).requestAnimationFrame;
          const first = lockscope.snapshot().graph.frames;
          const start = performance.now();
          let n = 0;
          const loop = (now: number): void => {
            n++;
            // The layout is kept moving, and the view pans: the worst case for a frame.
            if (n % 30 === 1) lockscope.reheatGraph(0.6);
            lockscope.panGraph(Math.sin(n / 20) * 6, Math.cos(n / 25) * 4);
            if (now - start < ms) raf(loop);
            else resolve(((lockscope.snapshot().graph.frames - first) * 1000) / (now - start));
          };
          raf(loop);
        }),
      3000,
    );
  } finally {
    await w.close();
  }
}

/**
 * A report whose graph at the end has `tasks + resources` nodes: each task holds one lock, and
 * every other task waits for another one.
 */
export function graphReport(tasks: number, resources: number): Report {
  const pid = 7000;
  const report = emptyReport(pid, [0, 1, 2, 3]);
  for (let r = 0; r < resources; r++) {
    report.resources.push({
      key: `${pid}:r${r}`,
      name: `lock ${r}`,
      kind: r % 5 === 0 ? 'rwlock' : 'mutex',
      class: `c${r % 40}`,
    });
  }
  for (let t = 0; t < tasks; t++) {
    const key = `${pid}:${t + 1}`;
    const thread = t % 4;
    report.timeline.lanes.push({ task: key, name: `worker ${t + 1}`, pid, thread });
    const held = `${pid}:r${t % resources}`;
    report.timeline.intervals.push({ task: key, resource: held, type: 'hold', start: 1000 + t });
    if (t % 2 === 1) {
      const wanted = `${pid}:r${(t * 7 + 3) % resources}`;
      report.timeline.intervals.push({
        task: key,
        resource: wanted,
        type: 'wait',
        start: 5000 + t,
      });
    }
  }
  return report;
}

function emptyReport(pid: number, threads: number[]): Report {
  return {
    version: 1,
    origin: Date.UTC(2026, 0, 1),
    findings: [],
    processes: [{ pid, title: 'bench', threads, produced: 0, dropped: 0, events: 0 }],
    stats: { resources: [], sites: [] },
    graph: { nodes: [], edges: [], order: [] },
    timeline: { lanes: [], intervals: [], omitted: 0 },
    resources: [],
  };
}

// ---------------------------------------------------------------------------------------------
// A live stream of 10,000 events a second

const STREAM_SECONDS = 5;
const STREAM_RATE = 10_000;
const REPORT_MS = 200;

async function streamDroppedFrames(browser: Browser): Promise<number> {
  const messages = streamReports();
  const w = await openWebview(browser, { width: 1400, height: 900 });
  try {
    // The reports are in the page before the clock starts, so that moving them across the
    // devtools protocol is not measured; posting them (a structured clone) is.
    await w.page.evaluate(() => {
      (globalThis as unknown as { __queue: unknown[] }).__queue = [];
    });
    for (const m of messages) {
      await w.page.evaluate((message) => {
        (globalThis as unknown as { __queue: unknown[] }).__queue.push(message);
      }, m);
    }
    return await w.page.evaluate(
      ({ interval, frame }) =>
        new Promise<number>((resolve) => {
          const g = globalThis as unknown as {
            __queue: unknown[];
            postMessage(m: unknown, o: string): void;
            requestAnimationFrame(f: (t: number) => void): void;
            setTimeout(f: () => void, ms: number): void;
          };
          const queue = g.__queue;
          let posted = 0;
          let last = -1;
          let missed = 0;
          let start = 0;
          const tick = (): void => {
            g.postMessage(queue[posted++], '*');
            if (posted < queue.length) g.setTimeout(tick, interval);
          };
          const loop = (now: number): void => {
            if (last < 0) {
              start = now;
              tick();
            } else {
              missed += Math.max(0, Math.round((now - last) / frame) - 1);
            }
            last = now;
            if (posted < queue.length || now - start < queue.length * interval + 300) {
              g.requestAnimationFrame(loop);
            } else {
              const expected = (now - start) / frame;
              resolve((missed / expected) * 100);
            }
          };
          g.requestAnimationFrame(loop);
        }),
      { interval: REPORT_MS, frame: FRAME_MS },
    );
  } finally {
    await w.close();
  }
}

/**
 * The reports the host would post while a program produces STREAM_RATE events a second: 100
 * tasks taking, holding and releasing 60 locks, waiting when a lock is taken (a simulation with
 * its own clock, analysed by the real Analyzer), one report every REPORT_MS.
 */
export function streamReports(): unknown[] {
  const session = new StreamSession(undefined);
  const analyzer = new Analyzer();
  const feed = (m: unknown): void => {
    const message = session.accept(JSON.stringify(m));
    if (message) analyzer.accept(session, message);
  };
  const origin = Date.UTC(2026, 0, 1);
  const pid = 8000;
  feed({
    t: 'hello',
    protocol: 1,
    probe: 'bench',
    capabilities: ['events', 'sites'],
    pid,
    title: 'stream',
    thread: 0,
    ts: origin,
  });
  const TASKS = 100;
  const LOCKS = 60;
  for (let t = 1; t <= TASKS; t++)
    feed({ t: 'task', id: t, name: `worker ${t}`, kind: 'spawn', thread: 0 });
  for (let r = 1; r <= LOCKS; r++) {
    feed({
      t: 'resource',
      id: 1000 + r,
      kind: 'mutex',
      name: `lock ${r}`,
      class: `/app/locks.ts:${r}:1`,
    });
  }
  feed({ t: 'site', id: 1, file: '/app/worker.ts', line: 12, column: 5, fn: 'work' });
  feed({ t: 'site', id: 2, file: '/app/worker.ts', line: 19, column: 7, fn: 'work' });

  // A seeded generator, so that every run measures the same stream.
  let seed = 42;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const holder = new Map<number, number>();
  const waiters = new Map<number, number[]>();
  const releases: { at: number; task: number; lock: number }[] = [];
  const idle: number[] = [];
  for (let t = 1; t <= TASKS; t++) idle.push(t);
  const messages: unknown[] = [];
  const perReport = (STREAM_RATE * REPORT_MS) / 1000;
  let now = 0;
  for (let r = 0; r < (STREAM_SECONDS * 1000) / REPORT_MS; r++) {
    const events: unknown[] = [];
    const end = (r + 1) * REPORT_MS * 1000;
    while (events.length < perReport) {
      now += Math.max(1, Math.round((end - now) / (perReport - events.length + 1)));
      releases.sort((a, b) => a.at - b.at);
      while (releases.length > 0 && releases[0]!.at <= now && events.length < perReport) {
        const { task, lock } = releases.shift()!;
        events.push({ us: now, op: 'released', task, res: 1000 + lock });
        const next = waiters.get(lock)?.shift();
        if (next !== undefined) {
          holder.set(lock, next);
          events.push({ us: now, op: 'acquired', task: next, res: 1000 + lock, site: 1 });
          releases.push({ at: now + 200 + Math.floor(random() * 3000), task: next, lock });
        } else {
          holder.delete(lock);
        }
        idle.push(task);
      }
      const task = idle.shift();
      if (task === undefined) continue;
      const lock = 1 + Math.floor(random() * LOCKS);
      if (holder.has(lock)) {
        events.push({ us: now, op: 'request', task, res: 1000 + lock, site: 2 });
        (waiters.get(lock) ?? waiters.set(lock, []).get(lock)!).push(task);
      } else {
        holder.set(lock, task);
        events.push({ us: now, op: 'acquired', task, res: 1000 + lock, site: 1 });
        releases.push({ at: now + 200 + Math.floor(random() * 3000), task, lock });
      }
    }
    feed({ t: 'events', thread: 0, origin, events });
    messages.push(didReport(analyzer.report(), true));
  }
  return messages;
}

// ---------------------------------------------------------------------------------------------
// A million events on the time line

async function timelineScroll(browser: Browser): Promise<number> {
  const w = await openWebview(browser, { width: 1400, height: 900 });
  try {
    await buildMillionEventTimeline(w);
    return await w.page.evaluate(
      (frames) =>
        new Promise<number>((resolve) => {
          const lockscope = (globalThis as unknown as { __lockscope: LockscopeDebug }).__lockscope;
          const raf = (
            globalThis as unknown as { requestAnimationFrame: (f: (t: number) => void) => void }
          ).requestAnimationFrame;
          let n = 0;
          let start = 0;
          const loop = (now: number): void => {
            if (n === 0) start = now;
            // Scroll down the lanes, zoom in and out, and pan: each frame draws something new.
            lockscope.scrollTimeline(n % 120 < 60 ? 47 : -47);
            if (n % 40 < 20) lockscope.zoomTimeline(n % 80 < 40 ? 1.08 : 1 / 1.08);
            else lockscope.panTimeline(n % 80 < 60 ? 0.02 : -0.02);
            n++;
            if (n <= frames) raf(loop);
            else resolve((now - start) / frames);
          };
          raf(loop);
        }),
      240,
    );
  } finally {
    await w.close();
  }
}

/**
 * Builds the report in the page (500,000 intervals are too many to ship through the devtools
 * protocol quickly) and hands it to the view as a `didReport` message, validation included.
 */
async function buildMillionEventTimeline(w: WebviewPage): Promise<void> {
  await w.page.evaluate(
    ({ lanes, perLane, resources }) => {
      const pid = 9000;
      const n = lanes * perLane;
      const timeline = {
        tasks: [] as string[],
        resources: [] as string[],
        sites: [{ file: '/app/worker.ts', line: 12, column: 5, fn: 'work' }],
        task: new Array<number>(n),
        resource: new Array<number>(n),
        kind: new Array<number>(n),
        start: new Array<number>(n),
        end: new Array<number>(n),
        site: new Array<number>(n),
        endedBy: new Array<number>(n),
      };
      const report = {
        version: 1,
        origin: Date.UTC(2026, 0, 1),
        findings: [] as unknown[],
        processes: [
          { pid, title: 'million', threads: [0, 1, 2, 3], produced: 0, dropped: 0, events: 2 * n },
        ],
        stats: { resources: [], sites: [] },
        graph: { nodes: [], edges: [], order: [] },
        timeline: { lanes: [] as unknown[], intervals: [], omitted: 0 },
        resources: [] as unknown[],
      };
      for (let r = 0; r < resources; r++) {
        timeline.resources.push(`${pid}:r${r}`);
        report.resources.push({
          key: `${pid}:r${r}`,
          name: `lock ${r}`,
          kind: 'mutex',
          class: `c${r}`,
        });
      }
      let seed = 7;
      let i = 0;
      // Intervals in the order they start, as the Analyzer's ring keeps them: lane by lane they
      // interleave, so the view sorts nothing it would not have to sort live.
      const clock = new Array<number>(lanes).fill(0);
      for (let l = 0; l < lanes; l++) {
        timeline.tasks.push(`${pid}:${l + 1}`);
        report.timeline.lanes.push({
          task: `${pid}:${l + 1}`,
          name: `worker ${l + 1}`,
          pid,
          thread: l % 4,
        });
      }
      for (let k = 0; k < perLane; k++) {
        for (let l = 0; l < lanes; l++) {
          seed = (seed * 1103515245 + 12345) % 2147483648;
          const gap = 2 + (seed % 40);
          const length = 5 + ((seed >> 8) % 60);
          const start = clock[l]! + gap;
          clock[l] = start + length;
          timeline.task[i] = l;
          timeline.resource[i] = (l * 31 + k) % resources;
          timeline.kind[i] = (seed >> 4) % 4 === 0 ? 1 : 0;
          timeline.start[i] = start;
          timeline.end[i] = start + length;
          timeline.site[i] = 0;
          timeline.endedBy[i] = -1;
          i++;
        }
      }
      (globalThis as unknown as { __lockscope: LockscopeDebug }).__lockscope.receive({
        type: 'didReport',
        report,
        live: false,
        timeline,
      });
    },
    { lanes: 2000, perLane: 250, resources: 500 },
  );
  await w.page.waitForFunction(
    () => {
      const s = (globalThis as unknown as { __lockscope: LockscopeDebug }).__lockscope.snapshot();
      return s.intervals === 500_000 && s.timeline.frames > 0;
    },
    undefined,
    { timeout: 60_000 },
  );
}

if (process.argv[1]?.endsWith('browser.ts')) {
  const m = await measureWebview();
  console.log({
    graph_1000_nodes_fps: Math.round(m.graph1000Fps * 10) / 10,
    stream_10k_events_per_sec_dropped_frames_pct:
      Math.round(m.stream10kDroppedFramesPct * 100) / 100,
    timeline_1m_events_scroll_ms_per_frame: Math.round(m.timeline1mScrollMsPerFrame * 100) / 100,
  });
}
