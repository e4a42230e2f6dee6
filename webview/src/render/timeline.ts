/**
 * The timeline: one lane per task, its hold intervals as filled bars and its wait intervals as
 * hatched bars, coloured by resource, on an axis in milliseconds; a vertical line in the error
 * colour marks the moment of each finding. Intervals that overlap within a lane (a task holding one
 * lock while it waits for another) are stacked in rows of that lane rather than drawn over each
 * other. Ctrl or Cmd and the wheel zoom the time axis; dragging pans it.
 */
import {
  axisBottom,
  format,
  scaleLinear,
  select,
  zoom,
  zoomIdentity,
  type D3ZoomEvent,
  type ScaleLinear,
  type Selection,
} from 'd3';
import type { Report, TimelineInterval } from '../../../runtime-probe/src/analysis/types.js';
import {
  PALETTE_SIZE,
  colourVar,
  contentWidth,
  formatDuration,
  resourceColours,
  siteText,
  uniqueId,
} from './common.js';

export interface TimelineView {
  resetZoom(): void;
  destroy(): void;
}

interface Lane {
  task: string;
  name: string;
  title: string;
  /** Top of the lane, from the top of the plot. */
  y: number;
  height: number;
}

interface Bar {
  interval: TimelineInterval;
  lane: Lane;
  row: number;
  /** Start and end in milliseconds; an open interval ends at the end of the axis. */
  start: number;
  end: number;
  colour: number;
  label: string;
  title: string;
}

interface Marker {
  at: number;
  kind: string;
  severity: string;
  title: string;
}

const ROW_HEIGHT = 16;
const ROW_GAP = 3;
const LANE_PADDING = 5;
const MARGIN = { top: 22, right: 16, bottom: 28 };
const LABEL_MAX = 180;

const msFormat = format(',~g');

export function renderTimeline(container: HTMLElement, report: Report): TimelineView {
  const { lanes, bars, lastUs } = buildLanes(report);
  const markers = buildMarkers(report);
  const wrapper = select(container).append('div').attr('class', 'ls-timeline');
  if (lanes.length === 0) {
    wrapper.append('p').attr('class', 'ls-empty').text('The report has no timeline.');
    return { resetZoom: () => undefined, destroy: () => wrapper.remove() };
  }
  const id = uniqueId('ls-timeline');
  const width = contentWidth(wrapper.node()!, 900, 480);
  const plotHeight = lanes.reduce((h, l) => h + l.height, 0);
  const height = MARGIN.top + plotHeight + MARGIN.bottom;

  const svg = wrapper
    .append('svg')
    .attr('width', width)
    .attr('height', height)
    .attr('viewBox', `0 0 ${width} ${height}`)
    .attr('role', 'img')
    .attr('aria-label', 'Timeline of holds and waits per task');
  const defs = svg.append('defs');
  defineHatches(defs, id);

  // Lane labels on the left; the column is as wide as the longest, up to a limit.
  const labels = svg.append('g').attr('class', 'ls-lane-labels');
  const labelSel = labels
    .selectAll<SVGTextElement, Lane>('text')
    .data(lanes, (d) => d.task)
    .join('text')
    .attr('class', 'ls-lane-label')
    .attr('y', (d) => MARGIN.top + d.y + d.height / 2)
    .text((d) => d.name);
  labelSel.append('title').text((d) => d.title);
  let labelWidth = 0;
  labelSel.each(function (d) {
    const w = this.getComputedTextLength() || d.name.length * 7;
    labelWidth = Math.max(labelWidth, Math.min(w, LABEL_MAX));
  });
  const left = Math.ceil(labelWidth) + 16;
  labelSel.attr('x', left - 8);
  const right = width - MARGIN.right;

  const { startMs, endMs } = timeSpan(bars, markers, lastUs);
  for (const b of bars) if (b.interval.end === undefined) b.end = endMs;
  const x = scaleLinear().domain([startMs, endMs]).range([left, right]);

  defs
    .append('clipPath')
    .attr('id', `${id}-clip`)
    .append('rect')
    .attr('x', left)
    .attr('y', 0)
    .attr('width', right - left)
    .attr('height', height);

  svg
    .append('g')
    .attr('class', 'ls-lanes')
    .selectAll('rect')
    .data(lanes)
    .join('rect')
    .attr('class', (_, i) => `ls-lane${i % 2 ? ' odd' : ''}`)
    .attr('x', left)
    .attr('y', (d) => MARGIN.top + d.y)
    .attr('width', right - left)
    .attr('height', (d) => d.height);

  const plot = svg.append('g').attr('clip-path', `url(#${id}-clip)`);
  const barSel = plot
    .append('g')
    .attr('class', 'ls-bars')
    .selectAll<SVGGElement, Bar>('g')
    .data(bars)
    .join('g')
    .attr(
      'class',
      (d) => `ls-bar ${d.interval.type}${d.interval.end === undefined ? ' open' : ''}`,
    );
  barSel
    .append('rect')
    .attr('y', (d) => MARGIN.top + d.lane.y + LANE_PADDING + d.row * (ROW_HEIGHT + ROW_GAP))
    .attr('height', ROW_HEIGHT)
    .attr('rx', 2)
    .style('fill', (d) =>
      d.interval.type === 'hold' ? colourVar(d.colour) : `url(#${id}-hatch-${d.colour})`,
    )
    .style('stroke', (d) => colourVar(d.colour));
  barSel
    .append('text')
    .attr(
      'y',
      (d) => MARGIN.top + d.lane.y + LANE_PADDING + d.row * (ROW_HEIGHT + ROW_GAP) + ROW_HEIGHT / 2,
    )
    .text((d) => d.label);
  barSel.append('title').text((d) => d.title);

  // Markers are outside the clip, so that a label near either end of the axis is not cut off;
  // `place()` hides the markers that are zoomed out of view instead.
  const markerSel = svg
    .append('g')
    .attr('class', 'ls-markers')
    .selectAll<SVGGElement, Marker>('g')
    .data(markers)
    .join('g')
    .attr('class', (d) => `ls-marker ${d.severity}`);
  markerSel
    .append('line')
    .attr('y1', MARGIN.top - 4)
    .attr('y2', MARGIN.top + plotHeight);
  markerSel
    .append('text')
    .attr('y', MARGIN.top - 8)
    .text((d) => d.kind);
  markerSel.append('title').text((d) => d.title);

  const axis = svg
    .append('g')
    .attr('class', 'ls-axis')
    .attr('transform', `translate(0,${MARGIN.top + plotHeight})`);

  function place(scale: ScaleLinear<number, number>): void {
    barSel
      .select('rect')
      .attr('x', (d) => scale(d.start))
      // A zero-length interval still shows as a sliver.
      .attr('width', (d) => Math.max(scale(d.end) - scale(d.start), 1.5));
    barSel
      .select<SVGTextElement>('text')
      .attr('x', (d) => Math.max(scale(d.start), left) + 4)
      // A label shows only where it fits inside its bar.
      .attr('display', (d) =>
        Math.min(scale(d.end), right) - Math.max(scale(d.start), left) >= d.label.length * 6.5 + 8
          ? null
          : 'none',
      );
    markerSel
      .attr('transform', (d) => `translate(${scale(d.at)},0)`)
      .attr('display', (d) => (scale(d.at) < left || scale(d.at) > right ? 'none' : null));
    markerSel.select<SVGTextElement>('text').attr('text-anchor', function (d) {
      // A label centred on its line unless that would cross an end of the axis.
      const half = (this.getComputedTextLength() || d.kind.length * 6.5) / 2;
      const at = scale(d.at);
      return at + half > width ? 'end' : at - half < left ? 'start' : 'middle';
    });
    axis.call(
      axisBottom(scale)
        .ticks(Math.max(2, Math.floor((right - left) / 90)))
        .tickFormat((v) => `${msFormat(v.valueOf())} ms`),
    );
  }

  const zoomer = zoom<SVGSVGElement, unknown>()
    .scaleExtent([1, 10_000])
    .extent([
      [left, 0],
      [right, height],
    ])
    .translateExtent([
      [left, 0],
      [right, height],
    ])
    // As in the graph: the wheel zooms only with Ctrl or Cmd, so the page still scrolls.
    .filter(
      (event: MouseEvent | WheelEvent) =>
        (event.type !== 'wheel' || event.ctrlKey || event.metaKey) && !event.button,
    )
    .wheelDelta((event: WheelEvent) => -event.deltaY * (event.deltaMode === 1 ? 0.05 : 0.002))
    .on('zoom', (event: D3ZoomEvent<SVGSVGElement, unknown>) => {
      place(event.transform.rescaleX(x));
    });
  svg.call(zoomer);
  place(x);

  appendLegend(wrapper, report, bars);

  return {
    resetZoom: () => zoomer.transform(svg, zoomIdentity),
    destroy: () => {
      svg.on('.zoom', null);
      wrapper.remove();
    },
  };
}

/**
 * The visible span, in milliseconds. It ends a little after the last event, so that intervals still
 * open at the end show as reaching past it. It starts at 0 (the start of the time line) unless the
 * first event comes much later, as when a program spends its first milliseconds loading modules:
 * then it starts just before that event, and the axis still counts from the start of the time line.
 */
function timeSpan(
  bars: Bar[],
  markers: Marker[],
  lastUs: number,
): { startMs: number; endMs: number } {
  const last = Math.max(lastUs / 1000, 0.001);
  let first = last;
  for (const b of bars) first = Math.min(first, b.start);
  for (const m of markers) first = Math.min(first, m.at);
  const span = last - first;
  const startMs = first > 0.2 * last ? Math.max(0, first - 0.04 * span) : 0;
  return { startMs, endMs: last + 0.04 * (last - startMs) };
}

function defineHatches(
  defs: Selection<SVGDefsElement, unknown, null, undefined>,
  id: string,
): void {
  for (let i = 0; i < PALETTE_SIZE; i++) {
    const p = defs
      .append('pattern')
      .attr('id', `${id}-hatch-${i}`)
      .attr('patternUnits', 'userSpaceOnUse')
      .attr('width', 6)
      .attr('height', 6)
      .attr('patternTransform', 'rotate(45)');
    p.append('rect')
      .attr('class', 'ls-hatch-ground')
      .attr('width', 6)
      .attr('height', 6)
      .style('fill', colourVar(i));
    p.append('line')
      .attr('x1', 1.5)
      .attr('y1', 0)
      .attr('x2', 1.5)
      .attr('y2', 6)
      .attr('class', 'ls-hatch-line')
      .style('stroke', colourVar(i));
  }
}

function buildLanes(report: Report): { lanes: Lane[]; bars: Bar[]; lastUs: number } {
  const colours = resourceColours(report);
  const resources = new Map(report.resources.map((r) => [r.key, r]));
  const nodeLabels = new Map(report.graph.nodes.map((n) => [n.key, n.label]));
  const lanes: Lane[] = [];
  const byTask = new Map<string, { lane: Lane; intervals: TimelineInterval[] }>();
  for (const l of report.timeline.lanes) {
    if (byTask.has(l.task)) continue;
    const lane = {
      task: l.task,
      name: l.name,
      title: `${l.name}\nprocess ${l.pid}, thread ${l.thread}`,
      y: 0,
      height: 0,
    };
    lanes.push(lane);
    byTask.set(l.task, { lane, intervals: [] });
  }

  let lastUs = 0;
  for (const f of report.findings) lastUs = Math.max(lastUs, f.at);
  for (const i of report.timeline.intervals) {
    lastUs = Math.max(lastUs, i.start, i.end ?? 0);
    let entry = byTask.get(i.task);
    if (!entry) {
      // An interval of a task without a lane still shows, in a lane named by its key.
      const name = nodeLabels.get(i.task) ?? i.task;
      const lane = { task: i.task, name, title: name, y: 0, height: 0 };
      lanes.push(lane);
      entry = { lane, intervals: [] };
      byTask.set(i.task, entry);
    }
    entry.intervals.push(i);
  }

  const bars: Bar[] = [];
  let y = 0;
  for (const lane of lanes) {
    const intervals = byTask.get(lane.task)!.intervals;
    intervals.sort(
      (a, b) => a.start - b.start || (a.type === b.type ? 0 : a.type === 'hold' ? -1 : 1),
    );
    // Greedy rows: each interval goes in the first row that is free at its start.
    const rowEnds: number[] = [];
    for (const interval of intervals) {
      const end = interval.end ?? Infinity;
      let row = rowEnds.findIndex((e) => e <= interval.start);
      if (row < 0) row = rowEnds.push(end) - 1;
      else rowEnds[row] = end;
      const r = resources.get(interval.resource);
      const name = r?.name ?? nodeLabels.get(interval.resource) ?? interval.resource;
      const kind = r ? ` (${r.kind})` : '';
      bars.push({
        interval,
        lane,
        row,
        start: interval.start / 1000,
        end: (interval.end ?? interval.start) / 1000,
        colour: colours(interval.resource),
        label: name,
        title: intervalTitle(interval, `${name}${kind}`, lastUs, nodeLabels),
      });
    }
    lane.y = y;
    lane.height = Math.max(rowEnds.length, 1) * (ROW_HEIGHT + ROW_GAP) - ROW_GAP + 2 * LANE_PADDING;
    y += lane.height;
  }
  return { lanes, bars, lastUs };
}

function intervalTitle(
  i: TimelineInterval,
  resource: string,
  lastUs: number,
  labels: Map<string, string>,
): string {
  const verb = i.type === 'hold' ? 'held' : 'waited for';
  const lines = [resource];
  if (i.end === undefined) {
    const still = i.type === 'hold' ? 'still held' : 'still waiting';
    lines.push(`${i.type}: ${still} at the end (${formatDuration(lastUs - i.start)} so far)`);
    lines.push(`from ${msFormat(i.start / 1000)} ms`);
  } else {
    lines.push(`${i.type}: ${verb} ${formatDuration(i.end - i.start)}`);
    lines.push(`from ${msFormat(i.start / 1000)} ms to ${msFormat(i.end / 1000)} ms`);
  }
  if (i.site) lines.push(`at ${siteText(i.site)}${i.site.fn ? ` (${i.site.fn})` : ''}`);
  if (i.endedBy) lines.push(`granted by ${labels.get(i.endedBy) ?? i.endedBy}`);
  return lines.join('\n');
}

function buildMarkers(report: Report): Marker[] {
  return report.findings.map((f) => ({
    at: f.at / 1000,
    kind: f.kind,
    severity: f.severity,
    title: `${f.kind} at ${msFormat(f.at / 1000)} ms\n${f.message}`,
  }));
}

function appendLegend(
  wrapper: Selection<HTMLDivElement, unknown, null, undefined>,
  report: Report,
  bars: Bar[],
): void {
  const shown = new Map<string, Bar>();
  for (const b of bars) if (!shown.has(b.interval.resource)) shown.set(b.interval.resource, b);
  const legend = wrapper.append('div').attr('class', 'ls-legend');
  const kinds = legend.append('span').attr('class', 'ls-legend-group');
  kinds.append('span').attr('class', 'ls-key hold');
  kinds.append('span').text('holds');
  kinds.append('span').attr('class', 'ls-key wait');
  kinds.append('span').text('waits');
  if (report.findings.length > 0) {
    // The key takes the colour of the most severe finding, the marker most worth finding.
    const worst = (['error', 'warning', 'info'] as const).find((sev) =>
      report.findings.some((f) => f.severity === sev),
    );
    kinds.append('span').attr('class', `ls-key marker ${worst ?? 'info'}`);
    kinds.append('span').text('finding');
  }
  const items = legend
    .selectAll<HTMLSpanElement, Bar>('span.ls-legend-item')
    .data([...shown.values()])
    .join('span')
    .attr('class', 'ls-legend-item');
  items
    .append('span')
    .attr('class', 'ls-key hold')
    .style('background', (d) => colourVar(d.colour));
  items.append('span').text((d) => d.label);
  if (report.timeline.omitted > 0) {
    legend
      .append('span')
      .attr('class', 'ls-note')
      .text(`${report.timeline.omitted} intervals were left out to keep the report small.`);
  }
}
