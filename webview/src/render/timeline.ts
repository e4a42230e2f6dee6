/**
 * The timeline: one lane per task, grouped under a header per process and per thread, its holds
 * as filled bars and its waits as hatched bars, coloured by resource; a line per finding; the
 * playback cursor; and above it an overview of the whole retained window with a brush for the
 * span in view.
 *
 * It is virtualized, so that a million events scroll: the lanes scroll natively (a tall spacer
 * under a canvas that stays in view), and each frame draws only the lanes in view and, in each
 * lane, only the intervals in the span in view, found by binary search. Where many intervals fall
 * within one pixel, the drawing jumps over them (a binary search to the next pixel), so a frame
 * costs about the number of pixels, not of intervals.
 *
 * Ctrl or Cmd and the wheel zoom the time axis, Shift and the wheel (or a horizontal wheel, or a
 * drag) pan it; clicking or dragging on the ruler moves the playback cursor.
 */
import { brushX, scaleLinear, select, type BrushBehavior, type D3BrushEvent } from 'd3';
import { lowerBound, PALETTE_SIZE, type Model } from '../model/model.js';
import { buildRows, type Row } from '../model/rows.js';
import { formatDuration, formatTime, showTooltip } from './common.js';
import { readTheme, sizeCanvas, withAlpha, type Theme } from './theme.js';
import type { TimelineDebug } from '../debug.js';

export interface TimelineOptions {
  onSelectInterval(id: number): void;
  onSelectTask(task: number): void;
  onSelectFinding(id: string): void;
  /** The user moved the playback cursor (on the ruler). */
  onSeek(time: number): void;
  /** The span in view or the scroll changed. */
  onView?(view: { t0: number; t1: number; scrollTop: number }): void;
}

export interface TimelineSelection {
  interval?: number;
  task?: number;
  resource?: number;
}

interface Item {
  kind: 'process' | 'thread' | 'lane';
  label: string;
  top: number;
  height: number;
  task: number;
  rows: Row[];
}

const RULER = 26;
const GUTTER = 176;
const ROW = 12;
const ROW_GAP = 2;
const LANE_PAD = 3;
const PROCESS_HEADER = 22;
const THREAD_HEADER = 18;
const OVERVIEW = 30;

export class TimelineView {
  readonly element: HTMLDivElement;
  readonly #options: TimelineOptions;
  readonly #overview: HTMLCanvasElement;
  readonly #brushSvg: SVGSVGElement;
  readonly #brushLayer: SVGGElement;
  readonly #brush: BrushBehavior<unknown>;
  readonly #scroller: HTMLDivElement;
  readonly #spacer: HTMLDivElement;
  readonly #canvas: HTMLCanvasElement;
  readonly #tooltip: HTMLDivElement;
  #ctx: CanvasRenderingContext2D;
  #octx: CanvasRenderingContext2D;
  #theme: Theme;
  #patterns: (CanvasPattern | string)[] = [];
  #width = 0;
  #height = 0;

  #model: Model | undefined;
  #items: Item[] = [];
  #tops = new Float64Array(0);
  #contentHeight = 0;
  #rowsOf: Row[][] = [];
  #search = '';
  #selection: TimelineSelection = {};
  #cursor: number | undefined;
  #t0 = 0;
  #t1 = 1;
  /** True once the user chose a span; until then the view follows the whole window. */
  #userView = false;
  #frame = 0;
  #overviewDirty = true;
  /** Active holds and waits per pixel column of the overview, for the model and width drawn. */
  #density: { holds: Float64Array; waits: Float64Array; max: number; key: string } | undefined;
  #debug: TimelineDebug = {
    t0: 0,
    t1: 0,
    scrollTop: 0,
    lanes: [],
    plotLeft: GUTTER,
    plotRight: 0,
    ruler: RULER,
    bars: 0,
    frames: 0,
    drawMs: 0,
    cursorX: -1,
  };
  #frames = 0;
  #drag:
    { x: number; y: number; t0: number; t1: number; moved: boolean; ruler: boolean } | undefined;
  #labelWidths = new Map<string, number>();
  /** Bars per style, as x, y, width triples; reused from frame to frame. */
  readonly #batches: number[][] = Array.from({ length: PALETTE_SIZE * 4 }, () => []);

  constructor(parent: HTMLElement, options: TimelineOptions) {
    this.#options = options;
    this.element = parent.appendChild(document.createElement('div'));
    this.element.className = 'ls-timeline';

    const overview = this.element.appendChild(document.createElement('div'));
    overview.className = 'ls-tl-overview';
    this.#overview = overview.appendChild(document.createElement('canvas'));
    this.#overview.setAttribute('aria-label', 'Overview of the retained time line');
    this.#brushSvg = overview.appendChild(
      document.createElementNS('http://www.w3.org/2000/svg', 'svg'),
    );
    this.#brushLayer = this.#brushSvg.appendChild(
      document.createElementNS('http://www.w3.org/2000/svg', 'g'),
    );
    this.#brush = brushX<unknown>().on('brush end', (event: D3BrushEvent<unknown>) => {
      // Only the user's moves count; the view moves the brush itself when it changes.
      if (!event.sourceEvent || !event.selection || !this.#model) return;
      const [x0, x1] = event.selection as [number, number];
      const o = this.#overviewScale();
      this.#setSpan(o.invert(x0), o.invert(x1), true);
    });

    this.#scroller = this.element.appendChild(document.createElement('div'));
    this.#scroller.className = 'ls-tl-scroll';
    this.#spacer = this.#scroller.appendChild(document.createElement('div'));
    this.#spacer.className = 'ls-tl-spacer';
    this.#canvas = this.#spacer.appendChild(document.createElement('canvas'));
    this.#canvas.setAttribute('role', 'img');
    this.#canvas.setAttribute('aria-label', 'Timeline of holds and waits per task');
    this.#tooltip = this.element.appendChild(document.createElement('div'));
    this.#tooltip.className = 'ls-tooltip';
    this.#tooltip.hidden = true;
    this.#ctx = this.#canvas.getContext('2d')!;
    this.#octx = this.#overview.getContext('2d')!;
    this.#theme = readTheme(this.element);

    this.#scroller.addEventListener('scroll', () => {
      this.#tooltip.hidden = true;
      this.#emitView();
      this.requestDraw();
    });
    this.#canvas.addEventListener('wheel', (e) => this.#wheel(e), { passive: false });
    this.#canvas.addEventListener('mousedown', (e) => this.#mouseDown(e));
    this.#canvas.addEventListener('mousemove', (e) => this.#hoverAt(e));
    this.#canvas.addEventListener('mouseleave', () => (this.#tooltip.hidden = true));
    window.addEventListener('mousemove', this.#onWindowMove);
    window.addEventListener('mouseup', this.#onWindowUp);
  }

  /** Shows another report's time line, keeping the span the user chose if it still overlaps. */
  setModel(model: Model): void {
    const first = this.#model === undefined;
    this.#model = model;
    this.#rowsOf = buildRows(model);
    this.#density = undefined;
    this.#labelWidths.clear();
    this.#layout();
    const [w0, w1] = this.#window();
    if (first || !this.#userView || this.#t1 < w0 || this.#t0 > w1) {
      this.#t0 = w0;
      this.#t1 = w1;
      if (!first) this.#userView = false;
    }
    this.#overviewDirty = true;
    this.requestDraw();
  }

  setCursor(time: number | undefined): void {
    if (this.#cursor === time) return;
    this.#cursor = time;
    this.#overviewDirty = true;
    this.requestDraw();
  }

  /** Keeps the lanes of tasks whose name matches, or that used a resource whose name matches. */
  setSearch(query: string): void {
    const q = query.trim().toLowerCase();
    if (q === this.#search) return;
    this.#search = q;
    this.#layout();
    this.requestDraw();
  }

  setSelection(selection: TimelineSelection): void {
    this.#selection = selection;
    this.requestDraw();
  }

  /** Restores a span and scroll (saved state). */
  setView(t0: number, t1: number, scrollTop: number): void {
    this.#setSpan(t0, t1, true);
    this.#scroller.scrollTop = scrollTop;
  }

  /** Zooms the time axis by `factor` (> 1 zooms in) around a moment (the middle by default). */
  zoomBy(factor: number, at?: number): void {
    const centre = at ?? (this.#t0 + this.#t1) / 2;
    this.#setSpan(
      centre - (centre - this.#t0) / factor,
      centre + (this.#t1 - centre) / factor,
      true,
    );
  }

  /** Pans the time axis by a fraction of the span in view. */
  panBy(fraction: number): void {
    const d = (this.#t1 - this.#t0) * fraction;
    this.#setSpan(this.#t0 + d, this.#t1 + d, true);
  }

  scrollBy(dy: number): void {
    this.#scroller.scrollTop += dy;
  }

  /** Shows the whole retained window again. */
  resetZoom(): void {
    const [w0, w1] = this.#window();
    this.#setSpan(w0, w1, false);
  }

  /** Brings a moment into view, keeping the span's width. */
  reveal(time: number): void {
    if (time >= this.#t0 && time <= this.#t1) return;
    const half = (this.#t1 - this.#t0) / 2;
    this.#setSpan(time - half, time + half, true);
  }

  resize(): void {
    const w = Math.floor(this.#scroller.clientWidth);
    const h = Math.floor(this.#scroller.clientHeight);
    if (w === this.#width && h === this.#height) return;
    this.#width = w;
    this.#height = h;
    this.#ctx = sizeCanvas(this.#canvas, w, h);
    this.#octx = sizeCanvas(this.#overview, w, OVERVIEW);
    select(this.#brushSvg).attr('width', w).attr('height', OVERVIEW);
    this.#brush.extent([
      [GUTTER, 0],
      [Math.max(GUTTER + 1, w - 8), OVERVIEW],
    ]);
    select(this.#brushLayer).call(this.#brush);
    this.#updateSpacer();
    this.#overviewDirty = true;
    this.requestDraw();
  }

  retheme(): void {
    this.#theme = readTheme(this.element);
    this.#patterns = [];
    this.#labelWidths.clear();
    this.#overviewDirty = true;
    this.requestDraw();
  }

  get debug(): TimelineDebug {
    return this.#debug;
  }

  /** The height that shows every lane (for a view that sizes the timeline to its content). */
  get preferredHeight(): number {
    return OVERVIEW + 1 + RULER + this.#contentHeight + 10;
  }

  get view(): { t0: number; t1: number; scrollTop: number } {
    return { t0: this.#t0, t1: this.#t1, scrollTop: this.#scroller.scrollTop };
  }

  destroy(): void {
    cancelAnimationFrame(this.#frame);
    window.removeEventListener('mousemove', this.#onWindowMove);
    window.removeEventListener('mouseup', this.#onWindowUp);
    this.element.remove();
  }

  requestDraw(): void {
    if (this.#frame) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      if (this.#width === 0) this.resize();
      const started = performance.now();
      if (this.#overviewDirty) this.#drawOverview();
      const bars = this.#draw();
      this.#frames++;
      this.#debug = {
        t0: this.#t0,
        t1: this.#t1,
        scrollTop: this.#scroller.scrollTop,
        lanes: this.#visibleItems()
          .filter((i) => i.kind === 'lane')
          .map((i) => ({
            name: i.label,
            task: this.#model!.tasks[i.task]!.key,
            top: RULER + i.top - this.#scroller.scrollTop,
            height: i.height,
          })),
        plotLeft: GUTTER,
        plotRight: this.#width - 8,
        ruler: RULER,
        bars,
        frames: this.#frames,
        drawMs: performance.now() - started,
        cursorX: this.#cursor === undefined ? -1 : this.#x()(this.#cursor),
      };
    });
  }

  // -------------------------------------------------------------------------------------------
  // Layout

  /** The retained window with a little room at both ends. */
  #window(): [number, number] {
    const m = this.#model;
    if (!m) return [0, 1];
    const span = Math.max(m.last - m.first, 1);
    return [Math.max(0, m.first - span * 0.02), m.last + span * 0.03];
  }

  #setSpan(t0: number, t1: number, user: boolean): void {
    const [w0, w1] = this.#window();
    const full = w1 - w0;
    // The span never gets narrower than a microsecond nor wider than the window.
    let width = Math.min(Math.max(t1 - t0, 1), full);
    if (!Number.isFinite(width)) width = full;
    let a = t0;
    if (a < w0) a = w0;
    if (a + width > w1) a = w1 - width;
    this.#t0 = a;
    this.#t1 = a + width;
    this.#userView = user && width < full * 0.999;
    this.#tooltip.hidden = true;
    this.#overviewDirty = true;
    this.#emitView();
    this.requestDraw();
  }

  #emitView(): void {
    this.#options.onView?.(this.view);
  }

  #layout(): void {
    const m = this.#model;
    this.#items = [];
    if (!m) return;
    const visible = this.#visibleTasks(m);
    // Processes in the report's order, threads by number, tasks by their first interval.
    const processOrder = new Map(m.report.processes.map((p, i) => [p.pid, i]));
    const titles = new Map(m.report.processes.map((p) => [p.pid, p.title]));
    const tasks = [...visible].sort((a, b) => {
      const ta = m.tasks[a]!;
      const tb = m.tasks[b]!;
      return (
        (processOrder.get(ta.pid) ?? 1e9) - (processOrder.get(tb.pid) ?? 1e9) ||
        ta.pid - tb.pid ||
        ta.thread - tb.thread ||
        firstStart(m, a) - firstStart(m, b)
      );
    });
    const threadsOf = new Map<number, Set<number>>();
    for (const t of tasks) {
      const info = m.tasks[t]!;
      (threadsOf.get(info.pid) ?? threadsOf.set(info.pid, new Set()).get(info.pid)!).add(
        info.thread,
      );
    }
    let y = 0;
    let pid = NaN;
    let thread = NaN;
    for (const t of tasks) {
      const info = m.tasks[t]!;
      if (info.pid !== pid) {
        pid = info.pid;
        thread = NaN;
        const title = titles.get(pid);
        const label = `process ${pid}${title ? ` · ${title}` : ''}`;
        this.#items.push({
          kind: 'process',
          label,
          top: y,
          height: PROCESS_HEADER,
          task: -1,
          rows: [],
        });
        y += PROCESS_HEADER;
      }
      if (info.thread !== thread) {
        thread = info.thread;
        if ((threadsOf.get(pid)?.size ?? 0) > 1) {
          const label = thread === 0 ? 'main thread' : `thread ${thread}`;
          this.#items.push({
            kind: 'thread',
            label,
            top: y,
            height: THREAD_HEADER,
            task: -1,
            rows: [],
          });
          y += THREAD_HEADER;
        }
      }
      const rows = this.#rowsOf[t] ?? [];
      const height = Math.max(rows.length, 1) * (ROW + ROW_GAP) - ROW_GAP + 2 * LANE_PAD;
      this.#items.push({ kind: 'lane', label: info.name, top: y, height, task: t, rows });
      y += height;
    }
    this.#contentHeight = y;
    this.#tops = Float64Array.from(this.#items, (i) => i.top);
    this.#updateSpacer();
  }

  #visibleTasks(m: Model): Set<number> {
    const out = new Set<number>();
    const q = this.#search;
    const resourceMatch = q ? m.resources.map((r) => r.name.toLowerCase().includes(q)) : [];
    this.#rowsOf.forEach((rows, t) => {
      if (rows.length === 0) return;
      if (!q || m.tasks[t]!.name.toLowerCase().includes(q)) {
        out.add(t);
        return;
      }
      for (const row of rows) {
        for (const id of row.ids) {
          if (resourceMatch[m.resource[id]!]) {
            out.add(t);
            return;
          }
        }
      }
    });
    return out;
  }

  #updateSpacer(): void {
    this.#spacer.style.height = `${Math.max(RULER + this.#contentHeight + 8, this.#height)}px`;
  }

  #visibleItems(): Item[] {
    const top = this.#scroller.scrollTop;
    const bottom = top + this.#height - RULER;
    let i = Math.max(0, lowerBound(this.#tops, top) - 1);
    const out: Item[] = [];
    for (; i < this.#items.length; i++) {
      const item = this.#items[i]!;
      if (item.top >= bottom) break;
      if (item.top + item.height > top) out.push(item);
    }
    return out;
  }

  #x(): (t: number) => number {
    const k = (this.#width - 8 - GUTTER) / (this.#t1 - this.#t0);
    const t0 = this.#t0;
    return (t) => GUTTER + (t - t0) * k;
  }

  #overviewScale(): { (t: number): number; invert(x: number): number } {
    const [w0, w1] = this.#window();
    return scaleLinear()
      .domain([w0, w1])
      .range([GUTTER, Math.max(GUTTER + 1, this.#width - 8)]);
  }

  // -------------------------------------------------------------------------------------------
  // Drawing

  #pattern(colour: number): CanvasPattern | string {
    let p = this.#patterns[colour];
    if (!p) {
      const c = document.createElement('canvas');
      const ratio = window.devicePixelRatio || 1;
      c.width = c.height = Math.round(6 * ratio);
      const g = c.getContext('2d')!;
      g.scale(ratio, ratio);
      const base = this.#theme.palette[colour] ?? this.#theme.fg;
      g.fillStyle = withAlpha(g, base, 0.18);
      g.fillRect(0, 0, 6, 6);
      g.strokeStyle = withAlpha(g, base, 0.9);
      g.lineWidth = 1.6;
      g.beginPath();
      // Diagonal stripes that tile: one through the middle and the two corners' halves.
      g.moveTo(-1, 7);
      g.lineTo(7, -1);
      g.moveTo(-1, 1);
      g.lineTo(1, -1);
      g.moveTo(5, 7);
      g.lineTo(7, 5);
      g.stroke();
      const pattern = this.#ctx.createPattern(c, 'repeat');
      if (pattern) pattern.setTransform(new DOMMatrix().scale(1 / ratio, 1 / ratio));
      p = pattern ?? withAlpha(g, base, 0.4);
      this.#patterns[colour] = p;
    }
    return p;
  }

  #draw(): number {
    const ctx = this.#ctx;
    const theme = this.#theme;
    const m = this.#model;
    const w = this.#width;
    const h = this.#height;
    ctx.clearRect(0, 0, w, h);
    if (!m || w === 0) return 0;
    const x = this.#x();
    const scrollTop = this.#scroller.scrollTop;
    const t0 = this.#t0;
    const t1 = this.#t1;
    const perPixel = (t1 - t0) / Math.max(w - 8 - GUTTER, 1);
    // Intervals still open are drawn to the end of the report (the present, while live).
    const now = m.last;
    const items = this.#visibleItems();
    const sel = this.#selection;

    // Lane backgrounds and headers.
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, RULER, w, h - RULER);
    ctx.clip();
    let odd = false;
    for (const item of items) {
      const y = RULER + item.top - scrollTop;
      if (item.kind === 'lane') {
        odd = !odd;
        const selected = sel.task === item.task;
        ctx.fillStyle = selected
          ? withAlpha(ctx, theme.selection, 0.16)
          : withAlpha(ctx, theme.lane, odd ? 0.9 : 0.45);
        ctx.fillRect(GUTTER, y, w - GUTTER, item.height);
      } else {
        ctx.fillStyle = theme.panel;
        ctx.fillRect(0, y, w, item.height);
        ctx.fillStyle = theme.border;
        ctx.fillRect(0, y + item.height - 1, w, 1);
      }
    }

    // The bars, collected per style (colour, hold or wait, dimmed or not) and drawn one path per
    // style: a handful of fills per frame however many bars.
    const batches = this.#batches;
    for (const b of batches) b.length = 0;
    const selectedBars: number[] = [];
    const labels: { x: number; y: number; width: number; text: string; wait: boolean }[] = [];
    let bars = 0;
    const right = w - 8;
    ctx.save();
    ctx.beginPath();
    ctx.rect(GUTTER, RULER, right - GUTTER, h - RULER);
    ctx.clip();
    for (const item of items) {
      if (item.kind !== 'lane') continue;
      const laneY = RULER + item.top - scrollTop + LANE_PAD;
      item.rows.forEach((row, r) => {
        const y = laneY + r * (ROW + ROW_GAP);
        let i = lowerBound(row.maxEnd, t0);
        const n = row.ids.length;
        while (i < n) {
          const id = row.ids[i]!;
          const s = m.start[id]!;
          if (s > t1) break;
          const e = Math.min(m.end[id]!, now);
          const x0 = Math.max(x(s), GUTTER - 2);
          const x1 = Math.min(Math.max(x(e), x(s) + 1.5), right + 2);
          const resource = m.resource[id]!;
          const colour = m.resources[resource]!.colour;
          const wait = m.kind[id] === 1;
          const dim = sel.resource !== undefined && sel.resource !== resource;
          const batch = batches[styleIndex(colour, wait, dim)]!;
          batch.push(x0, y, x1 - x0);
          bars++;
          if (id === sel.interval) selectedBars.push(x0, y, x1 - x0);
          if (x1 - x0 > 40) {
            labels.push({ x: x0, y, width: x1 - x0, text: m.resources[resource]!.name, wait });
          }
          // Intervals that start within the pixels this bar already covers would draw nothing
          // new: jump to the last of them (found by binary search), which may reach further and
          // is drawn whole, in its own style. Zoomed out, a frame costs about one bar per pixel
          // of each row, however many intervals the row holds.
          const until = t0 + (Math.max(x1, x0 + 1) + 1 - GUTTER) * perPixel;
          i = Math.max(i + 1, lowerBound(row.starts, until) - 1);
        }
      });
    }
    for (let style = 0; style < batches.length; style++) {
      const list = batches[style]!;
      if (list.length === 0) continue;
      const { colour, wait, dim } = styleOf(style);
      ctx.globalAlpha = dim ? 0.25 : 1;
      ctx.fillStyle = wait ? this.#pattern(colour) : (theme.palette[colour] ?? theme.fg);
      ctx.beginPath();
      for (let k = 0; k < list.length; k += 3) ctx.rect(list[k]!, list[k + 1]!, list[k + 2]!, ROW);
      ctx.fill();
      if (wait) {
        ctx.strokeStyle = theme.palette[colour] ?? theme.fg;
        ctx.lineWidth = 1;
        ctx.beginPath();
        for (let k = 0; k < list.length; k += 3) {
          ctx.rect(list[k]! + 0.5, list[k + 1]! + 0.5, Math.max(list[k + 2]! - 1, 0.5), ROW - 1);
        }
        ctx.stroke();
      }
    }
    ctx.globalAlpha = 1;
    const selected = selectedBars;
    if (selected.length > 0) {
      ctx.strokeStyle = theme.selection;
      ctx.lineWidth = 2;
      for (let k = 0; k < selected.length; k += 3) {
        ctx.strokeRect(selected[k]! - 1, selected[k + 1]! - 1, selected[k + 2]! + 2, ROW + 2);
      }
    }
    // Labels inside the bars wide enough to hold them.
    ctx.font = `600 10.5px ${theme.font}`;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    for (const l of labels.slice(0, 400)) {
      const text = l.text;
      let tw = this.#labelWidths.get(text);
      if (tw === undefined) {
        tw = ctx.measureText(text).width;
        this.#labelWidths.set(text, tw);
      }
      const lx = Math.max(l.x, GUTTER) + 4;
      if (Math.min(l.x + l.width, right) - lx < tw + 4) continue;
      if (l.wait) {
        ctx.lineWidth = 3;
        ctx.strokeStyle = theme.bg;
        ctx.strokeText(text, lx, l.y + ROW / 2 + 0.5);
        ctx.fillStyle = theme.fg;
      } else {
        ctx.fillStyle = theme.onColour;
      }
      ctx.fillText(text, lx, l.y + ROW / 2 + 0.5);
    }

    // Findings and the cursor, over the bars.
    for (const f of m.report.findings) {
      const fx = x(f.at);
      if (fx < GUTTER || fx > right) continue;
      ctx.fillStyle = severityColour(theme, f.severity);
      ctx.fillRect(Math.round(fx) - 1, RULER, 2, h - RULER);
    }
    ctx.restore();

    // The gutter: lane labels and headers.
    ctx.fillStyle = theme.bg;
    ctx.fillRect(0, RULER, GUTTER, h - RULER);
    ctx.textBaseline = 'middle';
    for (const item of items) {
      const y = RULER + item.top - scrollTop;
      if (item.kind === 'lane') {
        ctx.font = `12px ${theme.font}`;
        ctx.fillStyle = sel.task === item.task ? theme.fg : theme.fg;
        ctx.textAlign = 'right';
        ctx.fillText(item.label, GUTTER - 10, y + item.height / 2, GUTTER - 18);
      } else {
        ctx.fillStyle = theme.panel;
        ctx.fillRect(0, y, GUTTER, item.height);
        ctx.font = `${item.kind === 'process' ? 600 : 400} 11.5px ${theme.font}`;
        ctx.fillStyle = item.kind === 'process' ? theme.fg : theme.muted;
        ctx.textAlign = 'left';
        ctx.fillText(item.label, item.kind === 'process' ? 8 : 18, y + item.height / 2, w - 24);
      }
    }
    ctx.restore();

    this.#drawRuler(ctx, x);
    return bars;
  }

  #drawRuler(ctx: CanvasRenderingContext2D, x: (t: number) => number): void {
    const theme = this.#theme;
    const w = this.#width;
    const m = this.#model!;
    const right = w - 8;
    ctx.fillStyle = theme.bg;
    ctx.fillRect(0, 0, w, RULER);
    ctx.fillStyle = theme.border;
    ctx.fillRect(GUTTER, RULER - 1, right - GUTTER, 1);
    const scale = scaleLinear()
      .domain([this.#t0 / 1000, this.#t1 / 1000])
      .range([GUTTER, right]);
    const ticks = scale.ticks(Math.max(2, Math.floor((right - GUTTER) / 90)));
    const fmt = scale.tickFormat(ticks.length);
    ctx.font = `11px ${theme.font}`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    for (const tick of ticks) {
      const tx = Math.round(scale(tick)) + 0.5;
      ctx.fillStyle = theme.border;
      ctx.fillRect(tx - 0.5, RULER - 6, 1, 5);
      ctx.fillStyle = theme.muted;
      ctx.fillText(`${fmt(tick)} ms`, tx, 10);
    }
    // Finding markers on the ruler.
    for (const f of m.report.findings) {
      const fx = x(f.at);
      if (fx < GUTTER || fx > right) continue;
      ctx.fillStyle = severityColour(theme, f.severity);
      ctx.beginPath();
      ctx.moveTo(fx - 5, RULER - 9);
      ctx.lineTo(fx + 5, RULER - 9);
      ctx.lineTo(fx, RULER - 2);
      ctx.closePath();
      ctx.fill();
    }
    // The playback cursor: a line down the lanes with a handle and its time on the ruler.
    if (this.#cursor !== undefined) {
      const cx = x(this.#cursor);
      if (cx >= GUTTER - 1 && cx <= right + 1) {
        ctx.fillStyle = theme.cursor;
        ctx.fillRect(Math.round(cx) - 1, RULER - 4, 2, this.#height - RULER + 4);
        const text = formatTime(this.#cursor);
        ctx.font = `600 11px ${theme.font}`;
        const tw = ctx.measureText(text).width + 10;
        const lx = Math.min(Math.max(cx - tw / 2, GUTTER), right - tw);
        ctx.beginPath();
        ctx.roundRect(lx, 2, tw, 16, 3);
        ctx.fill();
        ctx.fillStyle = theme.bg;
        ctx.textAlign = 'center';
        ctx.fillText(text, lx + tw / 2, 10.5);
      }
    }
    ctx.textAlign = 'left';
    ctx.font = `600 11px ${theme.font}`;
    ctx.fillStyle = theme.muted;
    ctx.fillText('Tasks', 8, RULER / 2);
  }

  /**
   * How many holds and waits are active in each pixel column, by a difference array: one pass over
   * the intervals, whatever their lengths. Computed once per report and width, not per frame.
   */
  #densityOf(
    m: Model,
    bins: number,
    o: { invert(x: number): number },
  ): { holds: Float64Array; waits: Float64Array; max: number } {
    const key = String(bins);
    if (this.#density?.key === key) return this.#density;
    const holds = new Float64Array(bins + 1);
    const waits = new Float64Array(bins + 1);
    // The overview's scale, inlined: it runs twice per interval.
    const t0 = o.invert(GUTTER);
    const perBin = (o.invert(GUTTER + bins) - t0) / bins;
    for (let i = 0; i < m.n; i++) {
      const a = Math.min(bins, Math.max(0, Math.floor((m.start[i]! - t0) / perBin)));
      const e = Math.min(m.end[i]!, m.last);
      const b = Math.max(a + 1, Math.min(bins, Math.max(0, Math.floor((e - t0) / perBin))));
      const target = m.kind[i] === 0 ? holds : waits;
      target[a]! += 1;
      target[b]! -= 1;
    }
    let h = 0;
    let wv = 0;
    let max = 1;
    for (let i = 0; i < bins; i++) {
      h += holds[i]!;
      wv += waits[i]!;
      holds[i] = h;
      waits[i] = wv;
      max = Math.max(max, h + wv);
    }
    this.#density = { holds, waits, max, key };
    return this.#density;
  }

  #drawOverview(): void {
    this.#overviewDirty = false;
    const ctx = this.#octx;
    const theme = this.#theme;
    const m = this.#model;
    const w = this.#width;
    ctx.clearRect(0, 0, w, OVERVIEW);
    if (!m || w === 0) return;
    const o = this.#overviewScale();
    const left = GUTTER;
    const right = Math.max(GUTTER + 1, w - 8);
    const bins = Math.max(1, Math.floor(right - left));
    const { holds, waits, max } = this.#densityOf(m, bins, o);
    ctx.fillStyle = theme.panel;
    ctx.fillRect(left, 0, right - left, OVERVIEW);
    const base = OVERVIEW - 3;
    const scale = (OVERVIEW - 8) / max;
    ctx.fillStyle = withAlpha(ctx, theme.task, 0.55);
    ctx.beginPath();
    for (let i = 0; i < bins; i++)
      ctx.rect(left + i, base - holds[i]! * scale, 1, holds[i]! * scale);
    ctx.fill();
    ctx.fillStyle = withAlpha(ctx, theme.warning, 0.75);
    ctx.beginPath();
    for (let i = 0; i < bins; i++) {
      const top = base - (holds[i]! + waits[i]!) * scale;
      ctx.rect(left + i, top, 1, waits[i]! * scale);
    }
    ctx.fill();
    for (const f of m.report.findings) {
      ctx.fillStyle = severityColour(theme, f.severity);
      ctx.fillRect(Math.round(o(f.at)) - 1, 0, 2, OVERVIEW);
    }
    if (this.#cursor !== undefined) {
      ctx.fillStyle = theme.cursor;
      ctx.fillRect(Math.round(o(this.#cursor)) - 1, 0, 2, OVERVIEW);
    }
    ctx.font = `11px ${theme.font}`;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    ctx.fillStyle = theme.muted;
    const omitted = m.report.timeline.omitted;
    ctx.fillText(
      omitted > 0 ? `Retained · ${omitted} older left out` : 'Whole run',
      8,
      OVERVIEW / 2,
      GUTTER - 14,
    );
    // The brush shows the span in view.
    this.#brush.move(select(this.#brushLayer), [o(this.#t0), o(this.#t1)]);
  }

  // -------------------------------------------------------------------------------------------
  // Input

  #wheel(e: WheelEvent): void {
    if (!this.#model) return;
    const unit = e.deltaMode === 1 ? 16 : 1;
    if (e.ctrlKey || e.metaKey) {
      e.preventDefault();
      const at = this.#timeAt(e.offsetX);
      this.zoomBy(Math.exp(-e.deltaY * unit * 0.002), at);
    } else if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
      e.preventDefault();
      const d = (e.shiftKey ? e.deltaY : e.deltaX) * unit;
      this.panBy(d / Math.max(this.#width - GUTTER, 1));
    }
    // Otherwise the lanes scroll natively.
  }

  #timeAt(px: number): number {
    return (
      this.#t0 + ((px - GUTTER) / Math.max(this.#width - 8 - GUTTER, 1)) * (this.#t1 - this.#t0)
    );
  }

  #mouseDown(e: MouseEvent): void {
    if (e.button !== 0 || !this.#model) return;
    // The canvas stays in view while the lanes scroll, so its offsets are already visible ones.
    const ruler = e.offsetY < RULER && e.offsetX >= GUTTER;
    this.#drag = { x: e.clientX, y: e.clientY, t0: this.#t0, t1: this.#t1, moved: false, ruler };
    if (ruler) this.#options.onSeek(this.#clampTime(this.#timeAt(e.offsetX)));
    e.preventDefault();
  }

  readonly #onWindowMove = (e: MouseEvent): void => {
    const d = this.#drag;
    if (!d) return;
    const dx = e.clientX - d.x;
    if (!d.moved && Math.abs(dx) + Math.abs(e.clientY - d.y) < 4) return;
    d.moved = true;
    const rect = this.#canvas.getBoundingClientRect();
    if (d.ruler) {
      this.#options.onSeek(this.#clampTime(this.#timeAt(e.clientX - rect.left)));
      return;
    }
    const perPixel = (d.t1 - d.t0) / Math.max(this.#width - 8 - GUTTER, 1);
    this.#setSpan(d.t0 - dx * perPixel, d.t1 - dx * perPixel, true);
  };

  readonly #onWindowUp = (e: MouseEvent): void => {
    const d = this.#drag;
    this.#drag = undefined;
    if (!d || d.moved || d.ruler) return;
    const rect = this.#canvas.getBoundingClientRect();
    this.#click(e.clientX - rect.left, e.clientY - rect.top);
  };

  #clampTime(t: number): number {
    const m = this.#model!;
    return Math.min(Math.max(t, m.first), m.last);
  }

  #click(px: number, py: number): void {
    const hit = this.#hit(px, py);
    if (!hit) return;
    if (hit.finding) this.#options.onSelectFinding(hit.finding);
    else if (hit.interval !== undefined) this.#options.onSelectInterval(hit.interval);
    else if (hit.task !== undefined) this.#options.onSelectTask(hit.task);
  }

  /** What is under a point of the canvas (in its CSS pixels, relative to the visible part). */
  #hit(px: number, py: number): { interval?: number; task?: number; finding?: string } | undefined {
    const m = this.#model;
    if (!m || py < RULER) {
      if (m && py < RULER) {
        const x = this.#x();
        for (const f of m.report.findings)
          if (Math.abs(x(f.at) - px) <= 5) return { finding: f.id };
      }
      return undefined;
    }
    const contentY = py - RULER + this.#scroller.scrollTop;
    const index = lowerBound(this.#tops, contentY + 0.001) - 1;
    const item = this.#items[index];
    if (!item || item.kind !== 'lane' || contentY >= item.top + item.height) return undefined;
    if (px < GUTTER) return { task: item.task };
    const r = Math.floor((contentY - item.top - LANE_PAD) / (ROW + ROW_GAP));
    const row = item.rows[r];
    if (!row) return { task: item.task };
    const x = this.#x();
    const t = this.#timeAt(px);
    const slack = 3 * ((this.#t1 - this.#t0) / Math.max(this.#width - 8 - GUTTER, 1));
    // The last interval starting before the point that reaches it (within a few pixels).
    const i = lowerBound(row.starts, t + slack) - 1;
    for (let j = i; j >= 0 && j > i - 64; j--) {
      const id = row.ids[j]!;
      const end = Math.min(m.end[id]!, m.last);
      if (Math.max(x(end), x(m.start[id]!) + 1.5) >= px - 3) return { interval: id };
      if (row.maxEnd[j]! < t - slack) break;
    }
    return { task: item.task };
  }

  #hoverAt(e: MouseEvent): void {
    if (this.#drag) return;
    const m = this.#model;
    const y = e.offsetY;
    const hit = m ? this.#hit(e.offsetX, y) : undefined;
    this.#canvas.style.cursor =
      y < RULER && e.offsetX >= GUTTER
        ? 'col-resize'
        : hit?.interval !== undefined
          ? 'pointer'
          : '';
    if (!m || !hit || (hit.interval === undefined && !hit.finding)) {
      this.#tooltip.hidden = true;
      return;
    }
    let lines: string[];
    if (hit.finding) {
      const f = m.findingsById.get(hit.finding)!;
      lines = [`${f.kind} at ${formatTime(f.at)}`, f.title];
    } else {
      const id = hit.interval!;
      const r = m.resources[m.resource[id]!]!;
      const task = m.tasks[m.task[id]!]!;
      const end = m.end[id]!;
      const wait = m.kind[id] === 1;
      lines = [
        `${r.name} (${r.kind})`,
        `${task.name} ${wait ? 'waited for it' : 'held it'} ${
          end < Infinity
            ? formatDuration(end - m.start[id]!)
            : `${formatDuration(m.last - m.start[id]!)} so far`
        }`,
        `from ${formatTime(m.start[id]!)}${end < Infinity ? ` to ${formatTime(end)}` : ''}`,
      ];
      const site = m.siteOf(id);
      if (site) lines.push(`at ${site.file}:${site.line}`);
      const by = m.endedBy[id]!;
      if (by >= 0) lines.push(`granted by ${m.tasks[by]!.name}`);
    }
    const rect = this.element.getBoundingClientRect();
    const cr = this.#canvas.getBoundingClientRect();
    showTooltip(
      this.#tooltip,
      lines,
      e.offsetX + cr.left - rect.left,
      y + cr.top - rect.top,
      rect.width,
      rect.height,
    );
  }
}

/** The index of a bar style: its colour, hold or wait, and whether it is dimmed. */
function styleIndex(colour: number, wait: boolean, dim: boolean): number {
  return colour * 4 + (wait ? 2 : 0) + (dim ? 1 : 0);
}

function styleOf(index: number): { colour: number; wait: boolean; dim: boolean } {
  return { colour: index >> 2, wait: (index & 2) !== 0, dim: (index & 1) !== 0 };
}

function severityColour(theme: Theme, severity: string): string {
  return severity === 'error' ? theme.error : severity === 'warning' ? theme.warning : theme.info;
}

function firstStart(m: Model, task: number): number {
  const ids = m.intervalsOfTask(task);
  return ids.length > 0 ? m.start[ids[0]!]! : Infinity;
}
