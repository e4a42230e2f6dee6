// The webview in headless Chromium (tier 3): the bundle the extension ships, in the document the
// host writes (with its content security policy), with a stub of VS Code's API and VS Code's
// theme variables, fed reports analysed from recorded traces. What the canvases drew is read from
// the page's test hook and checked against the canvas pixels.
//
//   node --import tsx --test test/browser/*.test.ts
//
// Screenshots go to test/artifacts/browser/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Report } from '../../runtime-probe/src/analysis/types.js';
import { loadRenderer, renderHtml } from '../../runtime-probe/src/report/html.js';
import type {
  DebugEdge,
  DebugNode,
  DebugSnapshot,
  LockscopeDebug,
} from '../../webview/src/debug.js';
import { parseState } from '../../webview/src/protocol.js';
import { LEAK_TRACKER, type Registered } from './leaks.js';
import {
  ARTIFACTS,
  chromiumPath,
  didReport,
  ensureWebviewBuild,
  launch,
  openFile,
  openWebview,
  reportOf,
  setTheme,
  type OpenOptions,
  type WebviewPage,
} from './harness.js';

let browser: Browser;
const open: WebviewPage[] = [];

// Without Chromium every test below is cancelled; this one fails, saying how to install it.
it('has a Chromium to run in', () => {
  assert.ok(chromiumPath());
});

before(async () => {
  ensureWebviewBuild();
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

async function webview(options: OpenOptions = {}): Promise<WebviewPage> {
  const w = await openWebview(browser, options);
  open.push(w);
  return w;
}

/** Every page must have run without console errors, uncaught exceptions or CSP violations. */
function clean(w: WebviewPage): void {
  assert.deepEqual(w.problems, [], 'the page reported no problems');
}

const cycleEdges = (s: DebugSnapshot): DebugEdge[] => s.graph.edges.filter((e) => e.cycle);

/**
 * Reads the canvas pixels along each edge and says, for each, whether one of them has the colour
 * (within a small tolerance for antialiasing): the hook says what was drawn, the pixels that it
 * was. One readback of the whole canvas for all the edges.
 */
async function edgesHaveColour(page: Page, edges: DebugEdge[], colour: string): Promise<boolean[]> {
  return page.evaluate(
    ({ edges, colour }) => {
      type Ctx = {
        getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
        fillStyle: string;
      };
      type Canvas = {
        width: number;
        height: number;
        getBoundingClientRect(): { width: number };
        getContext(t: string): Ctx;
      };
      const doc = (globalThis as unknown as { document: { querySelector(s: string): Canvas } })
        .document;
      const canvas = doc.querySelector('.ls-graph canvas');
      const ratio = canvas.width / canvas.getBoundingClientRect().width;
      const ctx = canvas.getContext('2d');
      const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      ctx.fillStyle = colour;
      const hex = ctx.fillStyle;
      const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      return edges.map((edge) => {
        for (let k = 1; k < 20; k++) {
          const x = Math.round((edge.x1 + ((edge.x2 - edge.x1) * k) / 20) * ratio);
          const y = Math.round((edge.y1 + ((edge.y2 - edge.y1) * k) / 20) * ratio);
          for (let dy = -1; dy <= 1; dy++) {
            for (let dx = -1; dx <= 1; dx++) {
              const p = ((y + dy) * canvas.width + (x + dx)) * 4;
              const close = want.every((v, c) => Math.abs(v - pixels[p + c]!) <= 24);
              if (close && pixels[p + 3]! > 200) return true;
            }
          }
        }
        return false;
      });
    },
    { edges, colour },
  );
}

function lastFinding(report: Report): number {
  return Math.max(...report.findings.map((f) => f.at));
}

describe('the webview in Chromium', () => {
  after(async () => {
    for (const w of open.splice(0)) await w.close();
  });

  it('says ready, then draws the dining philosophers deadlock as a cycle of ten error edges', async () => {
    const w = await webview({ theme: 'dark' });
    assert.deepEqual(await w.posted(), [{ type: 'ready' }]);
    const report = reportOf('dining-philosophers');
    await w.post(didReport(report, false));
    const s = await w.settled();
    const cycle = cycleEdges(s);
    assert.equal(cycle.length, 10, 'five waits and five holds');
    assert.equal(cycle.filter((e) => e.type === 'waits').length, 5);
    assert.equal(cycle.filter((e) => e.type === 'holds').length, 5);
    for (const e of cycle) assert.equal(e.colour, s.errorColour, `${e.source} → ${e.target}`);
    assert.equal(s.errorColour, '#f85149', "VS Code's errorForeground");
    assert.deepEqual(
      await edgesHaveColour(w.page, cycle, s.errorColour),
      cycle.map(() => true),
      'every cycle edge has error-coloured pixels on the canvas',
    );
    const plain = s.graph.edges.filter((e) => !e.cycle);
    assert.equal(plain.length, 0);
    assert.deepEqual(
      s.graph.cycleLabels.map((l) => l.text),
      ['deadlock'],
    );
    assert.equal(s.graph.nodes.filter((n) => n.cycle).length, 10);
    await w.screenshot('dining-dark.png');
    clean(w);
  });

  it('destroy() takes down every listener, timer, frame and observer it added outside its element', async () => {
    const w = await webview({ initScript: LEAK_TRACKER });
    const registered = (): Promise<Registered> =>
      w.page.evaluate(() => (globalThis as unknown as { leakReport(): Registered }).leakReport());
    await w.post(didReport(reportOf('dining-philosophers'), true));
    await w.settled();
    // Playing runs animation frames; a search saves the view state after a pause (a timer).
    await w.page.evaluate(() => {
      (globalThis as unknown as { __lockscope: LockscopeDebug }).__lockscope.play();
    });
    // Typed from the page, not by Playwright, whose actions add listeners of their own.
    await w.page.evaluate(() => {
      type Input = { value: string; dispatchEvent(e: unknown): void };
      const g = globalThis as unknown as {
        document: { querySelector(s: string): Input };
        Event: new (type: string) => unknown;
      };
      const input = g.document.querySelector('.ls-search input');
      input.value = 'fork';
      input.dispatchEvent(new g.Event('input'));
    });
    const live = await registered();
    assert.ok(live.listeners.length > 1, `listeners while shown: ${live.listeners.join(', ')}`);
    assert.ok(live.observers > 0 && live.frames + live.timers > 0, JSON.stringify(live));
    await w.page.evaluate(
      () =>
        new Promise<void>((done) => {
          (globalThis as unknown as { __lockscope: LockscopeDebug }).__lockscope.destroy();
          // Two frames later anything the view left scheduled would have rescheduled itself.
          const page = globalThis as unknown as { requestAnimationFrame(f: () => void): void };
          page.requestAnimationFrame(() => page.requestAnimationFrame(done));
        }),
    );
    // What remains is the page's own: main.ts listens for the host's messages.
    assert.deepEqual(await registered(), {
      listeners: ['window message'],
      timers: 0,
      frames: 0,
      observers: 0,
    });
    assert.equal(await w.page.locator('.ls-app').count(), 0, 'the element is gone');
    clean(w);
  });

  it('shows no cycle before the deadlock: stepping back, clicking the ruler, and forward again', async () => {
    const w = await webview({ theme: 'dark' });
    const report = reportOf('dining-philosophers');
    const at = lastFinding(report);
    await w.post(didReport(report, false));
    await w.settled();

    // One event back from the end: the last philosopher has not asked for its fork yet.
    await w.page.getByRole('button', { name: 'Step back one event (←)' }).click();
    let s = await w.settled();
    assert.equal(s.paused, true);
    assert.ok(s.time < at, `${s.time} is before the deadlock at ${at}`);
    assert.equal(cycleEdges(s).length, 0, 'no edge on a cycle');
    assert.equal(s.graph.cycleLabels.length, 0, 'no deadlock label');
    assert.ok(
      s.graph.edges.every((e) => e.colour !== s.errorColour),
      'nothing in the error colour',
    );
    assert.ok(
      s.graph.edges.some((e) => e.type === 'holds'),
      'the forks are still held',
    );
    await w.screenshot('dining-before-deadlock-dark.png');

    // A click on the ruler, 2 ms before the deadlock.
    const t = at - 2000;
    const { plotLeft, plotRight, t0, t1, ruler } = s.timeline;
    const canvas = (await w.page.locator('.ls-tl-spacer canvas').boundingBox())!;
    const x = plotLeft + ((t - t0) / (t1 - t0)) * (plotRight - plotLeft);
    await w.page.mouse.click(canvas.x + x, canvas.y + ruler / 2);
    s = await w.settled();
    assert.ok(
      Math.abs(s.time - t) < ((t1 - t0) / (plotRight - plotLeft)) * 2,
      `seeked to ${s.time}`,
    );
    assert.equal(cycleEdges(s).length, 0);

    // Stepping forward event by event reaches the deadlock, and the cycle is back.
    for (let i = 0; i < 50 && s.time < at; i++) {
      await w.page.keyboard.press('ArrowRight');
      s = await w.snapshot();
    }
    s = await w.settled();
    assert.equal(s.time, at);
    assert.equal(cycleEdges(s).length, 10);

    // Back to the end.
    await w.page.keyboard.press('End');
    s = await w.settled();
    assert.equal(s.paused, false);
    assert.equal(cycleEdges(s).length, 10);
    clean(w);
  });

  it('plays back from the start, and zooms the timeline with its brush and the wheel', async () => {
    const w = await webview({ theme: 'dark' });
    const report = reportOf('dining-philosophers');
    await w.post(didReport(report, false));
    let s = await w.settled();
    const { first, last } = s;
    await w.page.getByRole('button', { name: 'Play from here (Space)' }).click();
    await w.page.waitForTimeout(400);
    s = await w.snapshot();
    assert.equal(s.playing, true);
    assert.ok(s.time > first && s.time < last, `playing at ${s.time}`);
    await w.page.keyboard.press('Space');
    const stopped = (await w.snapshot()).time;
    await w.page.waitForTimeout(200);
    s = await w.snapshot();
    assert.equal(s.playing, false);
    assert.equal(s.time, stopped, 'stopped where it was');

    // The brush over the overview: drag its right edge to the middle to see the first half.
    const overview = (await w.page.locator('.ls-tl-overview').boundingBox())!;
    const before = s.timeline;
    const handle = (await w.page.locator('.ls-tl-overview .handle--e').boundingBox())!;
    await w.page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
    await w.page.mouse.down();
    await w.page.mouse.move(overview.x + overview.width / 2, handle.y + handle.height / 2, {
      steps: 5,
    });
    await w.page.mouse.up();
    s = await w.settled();
    assert.ok(s.timeline.t1 - s.timeline.t0 < (before.t1 - before.t0) * 0.7, 'zoomed in');
    assert.equal(Math.round(s.timeline.t0), Math.round(before.t0), 'from the same start');
    // Ctrl and the wheel zoom in further around the pointer.
    const lanes = (await w.page.locator('.ls-tl-spacer canvas').boundingBox())!;
    const span = s.timeline.t1 - s.timeline.t0;
    await w.page.mouse.move(lanes.x + 500, lanes.y + 60);
    await w.page.keyboard.down('Control');
    await w.page.mouse.wheel(0, -200);
    await w.page.keyboard.up('Control');
    s = await w.settled();
    assert.ok(s.timeline.t1 - s.timeline.t0 < span * 0.9);
    clean(w);
  });

  it('draws a wait and the hold that follows it in one row, each in its own style', async () => {
    const w = await webview({ theme: 'dark' });
    const report = reportOf('semaphore-pool');
    await w.post(didReport(report, false));
    const lane = (await w.settled()).timeline.lanes.find((l) => l.name === 'job 3')!;
    const mine = report.timeline.intervals.filter((i) => i.task === lane.task);
    const wait = mine.find((i) => i.type === 'wait')!;
    const hold = mine.find((i) => i.type === 'hold')!;
    assert.equal(wait.end, hold.start, 'the hold starts when the wait ends');
    // Zoomed in where the wait ends, both bars are wide enough to look inside, past their labels.
    await w.page.evaluate((at) => {
      (globalThis as unknown as { __lockscope: LockscopeDebug }).__lockscope.zoomTimeline(4, at);
    }, wait.end);
    const s = await w.settled();
    const { plotLeft, plotRight, t0, t1 } = s.timeline;
    const x = (t: number): number => plotLeft + ((t - t0) / (t1 - t0)) * (plotRight - plotLeft);
    // A solid bar has one colour along its middle; a hatched one alternates. One readback of the
    // canvas for both.
    const ranges: [number, number][] = [
      [x(hold.start) + 150, x(hold.start) + 250],
      [x(hold.start) - 100, x(hold.start) - 20],
    ];
    const [holdColours, waitColours] = await w.page.evaluate(
      ({ ranges, y }: { ranges: [number, number][]; y: number }): [number, number] => {
        type Canvas = {
          width: number;
          height: number;
          getBoundingClientRect(): { width: number };
          getContext(t: string): {
            getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
          };
        };
        const doc = (globalThis as unknown as { document: { querySelector(s: string): Canvas } })
          .document;
        const canvas = doc.querySelector('.ls-tl-spacer canvas');
        const ratio = canvas.width / canvas.getBoundingClientRect().width;
        const all = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        const row = Math.round(y * ratio) * canvas.width;
        const [hold, wait] = ranges.map(([from, to]) => {
          const seen = new Set<string>();
          for (let px = Math.round(from * ratio); px < Math.round(to * ratio); px++) {
            const p = (row + px) * 4;
            seen.add(`${all[p]},${all[p + 1]},${all[p + 2]}`);
          }
          return seen.size;
        });
        return [hold!, wait!];
      },
      {
        ranges,
        y: lane.top + 3 + 6,
      },
    );
    assert.equal(holdColours, 1, 'the hold is solid');
    assert.ok(waitColours > 2, 'the wait is hatched');
    clean(w);
  });

  it('clicking a site sends openSource with its file, line and column', async () => {
    const w = await webview({ theme: 'dark' });
    const report = reportOf('dining-philosophers');
    const finding = report.findings[0]!;
    await w.post(didReport(report, false));
    await w.settled();

    // A finding's sites, from the details panel.
    await w.page.locator('.ls-details .ls-finding-item button').first().click();
    const site = finding.sites[0]!;
    await w.page.locator('.ls-details .ls-sites .ls-site').first().click();
    // A bar of the timeline: flow 1's hold of fork 0, then the site of that hold.
    const s = await w.snapshot();
    const lane = s.timeline.lanes.find((l) => l.name === 'Philosopher.dine (flow 1)')!;
    const hold = report.timeline.intervals.find((i) => i.task === lane.task && i.type === 'hold')!;
    const { plotLeft, plotRight, t0, t1 } = s.timeline;
    const x = plotLeft + ((hold.start + 300 - t0) / (t1 - t0)) * (plotRight - plotLeft);
    const canvas = (await w.page.locator('.ls-tl-spacer canvas').boundingBox())!;
    await w.page.mouse.click(canvas.x + x, canvas.y + lane.top + 3 + 6);
    assert.match((await w.page.locator('.ls-details h3').textContent()) ?? '', /Hold of fork 0/);
    await w.page.locator('.ls-details .ls-site').first().click();

    const posted = await w.posted();
    assert.deepEqual(posted.slice(1), [
      { type: 'openSource', file: site.file, line: site.line, column: site.column },
      {
        type: 'openSource',
        file: hold.site!.file,
        line: hold.site!.line,
        column: hold.site!.column,
      },
    ]);
    assert.equal(site.file.endsWith('examples/dining-philosophers.ts'), true);
    assert.equal(site.line, 34);
    assert.equal(hold.site!.line, 31);
    clean(w);
  });

  it('clicking a node focuses its neighbourhood and shows its holds and waits', async () => {
    const w = await webview({ theme: 'light' });
    await w.post(didReport(reportOf('dining-philosophers'), false));
    let s = await w.settled();
    const task = s.graph.nodes.find((n) => n.type === 'task')!;
    await clickNode(w.page, task);
    s = await w.settled();
    assert.deepEqual(s.selected, { kind: 'node', key: task.key });
    // The task, the fork it holds and the fork it waits for stay; the rest is dimmed.
    assert.equal(s.graph.nodes.filter((n) => !n.dimmed).length, 3);
    assert.match((await w.page.locator('.ls-details').textContent()) ?? '', /holds fork/);
    assert.match((await w.page.locator('.ls-details').textContent()) ?? '', /waits for fork/);
    await w.screenshot('dining-selected-light.png');
    await w.page.keyboard.press('Escape');
    s = await w.settled();
    assert.equal(s.graph.nodes.filter((n) => n.dimmed).length, 0);
    clean(w);
  });

  it('the search dims what does not match and filters the lanes', async () => {
    const w = await webview({ theme: 'dark' });
    await w.post(didReport(reportOf('dining-philosophers'), false));
    await w.settled();
    await w.page.getByRole('searchbox').fill('flow 3');
    const s = await w.settled();
    assert.deepEqual(
      s.graph.nodes.filter((n) => !n.dimmed).map((n) => n.key),
      s.graph.nodes.filter((n) => !n.dimmed && n.type === 'task').map((n) => n.key),
    );
    assert.equal(s.graph.nodes.filter((n) => !n.dimmed).length, 1);
    assert.deepEqual(
      s.timeline.lanes.map((l) => l.name),
      ['Philosopher.dine (flow 3)'],
    );
    assert.match((await w.page.locator('.ls-matches').textContent()) ?? '', /1 match/);
    clean(w);
  });

  it('restores the moment, search, selection and zoom when the panel is shown again', async () => {
    const report = reportOf('dining-philosophers');
    const first = await webview({ theme: 'dark' });
    await first.post(didReport(report, true));
    await first.settled();
    await first.page.keyboard.press('ArrowLeft');
    await first.page.keyboard.press('ArrowLeft');
    await first.page.getByRole('searchbox').fill('fork');
    const s1 = await first.settled();
    const fork = s1.graph.nodes.find((n) => n.type === 'resource')!;
    await clickNode(first.page, fork);
    await first.page.mouse.move(400, 200);
    await first.page.mouse.wheel(0, -300);
    await first.page.waitForTimeout(400);
    const before = await first.settled();
    const saved = parseState(await first.savedState());
    assert.equal(saved.paused, true);
    assert.equal(saved.time, before.time);
    assert.equal(saved.search, 'fork');
    assert.deepEqual(saved.selected, { kind: 'node', key: fork.key });
    assert.ok(saved.graph && saved.graph.k > 0);

    // The panel is hidden (the page unloads) and shown again: a new page with the saved state.
    await first.close();
    const second = await webview({ theme: 'dark', state: saved });
    await second.post(didReport(report, true));
    const after = await second.settled();
    assert.equal(after.paused, true);
    assert.equal(after.time, before.time);
    assert.equal(after.search, 'fork');
    assert.deepEqual(after.selected, { kind: 'node', key: fork.key });
    assert.equal(await second.page.getByRole('searchbox').inputValue(), 'fork');
    await second.page.waitForTimeout(400);
    assert.deepEqual(parseState(await second.savedState()).graph, saved.graph, 'the zoom is back');
    clean(second);
  });

  it('keeps reports that arrive while paused, and shows the newest on returning to live', async () => {
    const w = await webview({ theme: 'dark' });
    const report = reportOf('dining-philosophers');
    const early = truncate(report, lastFinding(report) - 3000);
    await w.post(didReport(early, true));
    let s = await w.settled();
    assert.equal(s.live, true);
    assert.equal(cycleEdges(s).length, 0);
    await w.page.getByRole('button', { name: 'Live', exact: true }).click();
    await w.post(didReport(report, true));
    await w.post(didReport(report, true));
    s = await w.settled();
    assert.equal(s.paused, true);
    assert.equal(s.waiting, 2);
    assert.equal(s.applied, 1);
    assert.equal(cycleEdges(s).length, 0, 'the paused picture holds still');
    await w.page.getByRole('button', { name: 'Return to live (End)' }).click();
    s = await w.settled();
    assert.equal(s.paused, false);
    assert.equal(s.applied, 2);
    assert.equal(cycleEdges(s).length, 10);
    clean(w);
  });

  it('ignores messages that are not valid notifications', async () => {
    const w = await webview({ theme: 'dark' });
    await w.post({ type: 'didReport', report: { version: 2 } });
    await w.post({ type: 'eval', code: 'alert(1)' });
    const bad = didReport(reportOf('dining-philosophers'), true);
    (bad as { timeline: { task: number[] } }).timeline.task[0] = 99;
    await w.post(bad);
    await w.page.waitForTimeout(100);
    const s = await w.snapshot();
    assert.equal(s.applied, 0);
    assert.equal(w.problems.length, 3);
    assert.ok(
      w.problems.every((p) => p.startsWith('console.warning: Lockscope: ignored a message')),
    );
  });

  it('follows a theme change, and draws light, dark and high-contrast themes', async () => {
    const w = await webview({ theme: 'dark' });
    await w.post(didReport(reportOf('dining-philosophers'), false));
    await w.settled();
    await setTheme(w.page, 'high-contrast');
    let s = await w.settled();
    assert.equal(s.errorColour, '#f48771');
    assert.ok(cycleEdges(s).every((e) => e.colour === '#f48771'));
    await w.screenshot('dining-high-contrast.png');
    await setTheme(w.page, 'light');
    s = await w.settled();
    assert.ok(cycleEdges(s).every((e) => e.colour === s.errorColour));
    await w.screenshot('dining-light.png');
    clean(w);
  });

  it('draws the lock-order graph with the inversion highlighted', async () => {
    const w = await webview({ theme: 'dark' });
    await w.post(didReport(reportOf('lock-order-inversion'), false));
    await w.settled();
    await w.page.getByRole('tab', { name: 'Lock order' }).click();
    const inversions = w.page.locator('.ls-order-edge.inversion');
    assert.equal(await inversions.count(), 2);
    assert.deepEqual(await w.page.locator('.ls-order-node text').allTextContents(), [
      'accounts',
      'audit',
    ]);
    await w.screenshot('lock-order-dark.png');
    clean(w);
  });

  it('shows a deadlock between threads, and the holds its dead threads left', async () => {
    const w = await webview({ theme: 'dark' });
    const report = reportOf('cross-thread-deadlock');
    const deadlock = report.findings.find((f) => f.kind === 'deadlock')!;
    await w.post(didReport(report, false));
    let s = await w.settled();
    // The program then terminated both workers: at the end their waits and holds have ended with
    // their threads, and nothing of the cycle is left to draw.
    assert.deepEqual(cycleEdges(s), []);
    // At the moment of the deadlock, each worker thread holds what the other waits for.
    await w.page.evaluate((at) => {
      (globalThis as unknown as { __lockscope: LockscopeDebug }).__lockscope.seek(at);
    }, deadlock.at);
    s = await w.settled();
    assert.equal(cycleEdges(s).length, 4);
    assert.deepEqual(
      s.timeline.lanes.map((l) => l.name),
      ['worker 1', 'worker 2'],
    );
    await w.screenshot('cross-thread-dark.png');
    clean(w);
  });

  it('the standalone HTML report plays back too', async () => {
    const report = reportOf('dining-philosophers');
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, 'dining-report.html');
    writeFileSync(file, renderHtml(report, loadRenderer()));
    const page = await openFile(browser, file);
    open.push(page);
    let s = await page.settled();
    assert.equal(cycleEdges(s).length, 10);
    await page.page.getByRole('button', { name: 'Step back one event (←)' }).click();
    s = await page.settled();
    assert.equal(s.paused, true);
    assert.equal(cycleEdges(s).length, 0);
    await page.page.getByRole('button', { name: 'Go to the end of the report (End)' }).click();
    s = await page.settled();
    assert.equal(cycleEdges(s).length, 10);
    await page.page.screenshot({ path: join(ARTIFACTS, 'dining-report-dark.png'), fullPage: true });
    clean(page);
  });
});

/** Clicks a node of the graph where it was drawn. */
async function clickNode(page: Page, node: DebugNode): Promise<void> {
  const box = (await page.locator('.ls-graph canvas').boundingBox())!;
  await page.mouse.click(box.x + node.x, box.y + node.y);
}

/** The report as it stood at `time`: intervals that started later are dropped, later ends open. */
function truncate(report: Report, time: number): Report {
  return {
    ...report,
    findings: report.findings.filter((f) => f.at <= time),
    graph: { nodes: [], edges: [], order: [] },
    timeline: {
      ...report.timeline,
      intervals: report.timeline.intervals
        .filter((i) => i.start <= time)
        .map((i) => {
          if (i.end !== undefined && i.end <= time) return i;
          const { end: _end, endedBy: _by, ...open } = i;
          return open;
        }),
    },
  };
}
