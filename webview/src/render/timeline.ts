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
 * drag) pan it; clicking or dragging on the ruler moves the playback cursor. This module holds the
 * elements, the span in view and the pointer; painting is timeline-paint.ts, the lanes and hit
 * testing timeline-layout.ts.
 */
import { brushX, scaleLinear, select, type BrushBehavior, type D3BrushEvent } from 'd3';
import { lowerBound, type Model } from '../model/model.js';
import { buildRows, type Row } from '../model/rows.js';
import { showTooltip } from './common.js';
import { readTheme, sizeCanvas, type Theme } from './theme.js';
import {
  GUTTER,
  OVERVIEW,
  RULER,
  frameDebug,
  hoverLines,
  TimelinePainter,
  type Item,
  type TimelineFrame,
} from './timeline-paint.js';
import { hitTest, layoutLanes, type Hit } from './timeline-layout.js';
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

/** The snapshot before the first frame. */
const EMPTY_DEBUG: TimelineDebug = {
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
  readonly #painter = new TimelinePainter();
  /** The last frame as painted: the test hook's snapshot is built from it when asked. */
  #drawn: { frame: TimelineFrame; bars: number; frames: number; drawMs: number } | undefined;
  #frames = 0;
  #drag:
    { x: number; y: number; t0: number; t1: number; moved: boolean; ruler: boolean } | undefined;

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
    this.#painter.newModel();
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
    this.#painter.retheme();
    this.#overviewDirty = true;
    this.requestDraw();
  }

  /** The test hook's snapshot of the last frame (built when asked). */
  get debug(): TimelineDebug {
    const d = this.#drawn;
    return d ? frameDebug(d.frame, d.bars, d.frames, d.drawMs) : EMPTY_DEBUG;
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
      const frame = this.#frameToPaint();
      if (this.#overviewDirty) {
        this.#overviewDirty = false;
        const o = this.#overviewScale();
        this.#painter.overview(frame, this.#octx, o);
        // The brush shows the span in view.
        if (frame.model && frame.width > 0) {
          this.#brush.move(select(this.#brushLayer), [o(this.#t0), o(this.#t1)]);
        }
      }
      const bars = this.#painter.lanes(frame);
      this.#drawn = { frame, bars, frames: ++this.#frames, drawMs: performance.now() - started };
    });
  }

  #frameToPaint(): TimelineFrame {
    return {
      ctx: this.#ctx,
      theme: this.#theme,
      model: this.#model,
      width: this.#width,
      height: this.#height,
      scrollTop: this.#scroller.scrollTop,
      t0: this.#t0,
      t1: this.#t1,
      x: this.#x(),
      items: this.#visibleItems(),
      selection: this.#selection,
      cursor: this.#cursor,
    };
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
    const laid = m ? layoutLanes(m, this.#rowsOf, this.#search) : { items: [], height: 0 };
    this.#items = laid.items;
    this.#contentHeight = laid.height;
    this.#tops = Float64Array.from(this.#items, (i) => i.top);
    this.#updateSpacer();
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
  #hit(px: number, py: number): Hit | undefined {
    const m = this.#model;
    if (!m) return undefined;
    const perPixel = (this.#t1 - this.#t0) / Math.max(this.#width - 8 - GUTTER, 1);
    return hitTest(
      { model: m, items: this.#items, tops: this.#tops, scrollTop: this.#scroller.scrollTop },
      this.#x(),
      { px, py, t: this.#timeAt(px), slack: 3 * perPixel },
    );
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
    const lines = hoverLines(m, hit);
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
