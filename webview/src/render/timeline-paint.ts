/**
 * Paints the time line: lane backgrounds and headers, the bars (collected per style and filled one
 * path per style), labels inside wide bars, findings, the ruler with the playback cursor, and the
 * overview's density of holds and waits. Keeps what painting can reuse: hatch patterns, label
 * widths, bar batches and the overview's density.
 */
import { scaleLinear } from 'd3';
import { lowerBound, PALETTE_SIZE, type Model } from '../model/model.js';
import type { Row } from '../model/rows.js';
import { formatDuration, formatTime } from './common.js';
import { withAlpha, type Theme } from './theme.js';
import type { TimelineDebug } from '../debug.js';

export const RULER = 26;
export const GUTTER = 176;
export const ROW = 12;
export const ROW_GAP = 2;
export const LANE_PAD = 3;
export const OVERVIEW = 30;

/** A header (process, thread) or a task's lane, at its place in the scrolled content. */
export interface Item {
  kind: 'process' | 'thread' | 'lane';
  label: string;
  top: number;
  height: number;
  task: number;
  rows: Row[];
}

export interface OverviewScale {
  (t: number): number;
  invert(x: number): number;
}

/** What one frame shows. */
export interface TimelineFrame {
  ctx: CanvasRenderingContext2D;
  theme: Theme;
  model: Model | undefined;
  width: number;
  height: number;
  scrollTop: number;
  t0: number;
  t1: number;
  /** Time to x on the lanes' canvas. */
  x: (t: number) => number;
  /** The headers and lanes in view. */
  items: Item[];
  selection: { interval?: number; task?: number; resource?: number };
  cursor: number | undefined;
}

export class TimelinePainter {
  #patterns: (CanvasPattern | string)[] = [];
  #labelWidths = new Map<string, number>();
  /** Bars per style, as x, y, width triples; reused from frame to frame. */
  readonly #batches: number[][] = Array.from({ length: PALETTE_SIZE * 4 }, () => []);
  /** Active holds and waits per pixel column of the overview, for the model and width drawn. */
  #density: { holds: Float64Array; waits: Float64Array; max: number; key: string } | undefined;

  /** A new report: its names and intervals differ. */
  newModel(): void {
    this.#density = undefined;
    this.#labelWidths.clear();
  }

  /** A new theme: colours and fonts differ. */
  retheme(): void {
    this.#patterns = [];
    this.#labelWidths.clear();
  }

  #pattern(ctx: CanvasRenderingContext2D, theme: Theme, colour: number): CanvasPattern | string {
    let p = this.#patterns[colour];
    if (!p) {
      const c = document.createElement('canvas');
      const ratio = window.devicePixelRatio || 1;
      c.width = c.height = Math.round(6 * ratio);
      const g = c.getContext('2d')!;
      g.scale(ratio, ratio);
      const base = theme.palette[colour] ?? theme.fg;
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
      const pattern = ctx.createPattern(c, 'repeat');
      if (pattern) pattern.setTransform(new DOMMatrix().scale(1 / ratio, 1 / ratio));
      p = pattern ?? withAlpha(g, base, 0.4);
      this.#patterns[colour] = p;
    }
    return p;
  }

  /** Paints the lanes, their bars, the findings and the ruler; returns how many bars it drew. */
  lanes(f: TimelineFrame): number {
    const { ctx, theme, width: w, height: h, x, scrollTop, t0, t1 } = f;
    const m = f.model;
    ctx.clearRect(0, 0, w, h);
    if (!m || w === 0) return 0;
    const perPixel = (t1 - t0) / Math.max(w - 8 - GUTTER, 1);
    // Intervals still open are drawn to the end of the report (the present, while live).
    const now = m.last;
    const items = f.items;
    const sel = f.selection;

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
      ctx.fillStyle = wait
        ? this.#pattern(ctx, theme, colour)
        : (theme.palette[colour] ?? theme.fg);
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

    this.#ruler(f, m);
    return bars;
  }

  #ruler(f: TimelineFrame, m: Model): void {
    const { ctx, theme, width: w, x } = f;
    const right = w - 8;
    ctx.fillStyle = theme.bg;
    ctx.fillRect(0, 0, w, RULER);
    ctx.fillStyle = theme.border;
    ctx.fillRect(GUTTER, RULER - 1, right - GUTTER, 1);
    const scale = scaleLinear()
      .domain([f.t0 / 1000, f.t1 / 1000])
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
    if (f.cursor !== undefined) {
      const cx = x(f.cursor);
      if (cx >= GUTTER - 1 && cx <= right + 1) {
        ctx.fillStyle = theme.cursor;
        ctx.fillRect(Math.round(cx) - 1, RULER - 4, 2, f.height - RULER + 4);
        const text = formatTime(f.cursor);
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
    o: OverviewScale,
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

  /** Paints the overview of the whole retained window (the brush over it is the view's). */
  overview(f: TimelineFrame, ctx: CanvasRenderingContext2D, o: OverviewScale): void {
    const { theme, width: w } = f;
    const m = f.model;
    ctx.clearRect(0, 0, w, OVERVIEW);
    if (!m || w === 0) return;
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
    if (f.cursor !== undefined) {
      ctx.fillStyle = theme.cursor;
      ctx.fillRect(Math.round(o(f.cursor)) - 1, 0, 2, OVERVIEW);
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

/** The tooltip of a bar or a finding's marker. */
export function hoverLines(m: Model, hit: { interval?: number; finding?: string }): string[] {
  if (hit.finding) {
    const f = m.findingsById.get(hit.finding)!;
    return [`${f.kind} at ${formatTime(f.at)}`, f.title];
  }
  const id = hit.interval!;
  const r = m.resources[m.resource[id]!]!;
  const task = m.tasks[m.task[id]!]!;
  const end = m.end[id]!;
  const wait = m.kind[id] === 1;
  const lines = [
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
  return lines;
}

/** What a painted frame reports to tests (see debug.ts). */
export function frameDebug(
  f: TimelineFrame,
  bars: number,
  frames: number,
  drawMs: number,
): TimelineDebug {
  return {
    t0: f.t0,
    t1: f.t1,
    scrollTop: f.scrollTop,
    lanes: f.items
      .filter((i) => i.kind === 'lane')
      .map((i) => ({
        name: i.label,
        task: f.model!.tasks[i.task]!.key,
        top: RULER + i.top - f.scrollTop,
        height: i.height,
      })),
    plotLeft: GUTTER,
    plotRight: f.width - 8,
    ruler: RULER,
    bars,
    frames,
    drawMs,
    cursorX: f.cursor === undefined ? -1 : f.x(f.cursor),
  };
}
