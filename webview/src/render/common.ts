/**
 * Helpers shared by the graph, the timeline and the findings list: colours, durations and source
 * locations. Colours are CSS custom properties (defined in report.css with VS Code's theme variables
 * and fallbacks), so the same drawing follows the editor's theme inside a webview.
 */
import { scaleOrdinal, type ScaleOrdinal } from 'd3';
import type { Report, Severity, SiteRef } from '../../../runtime-probe/src/analysis/types.js';

/** How many distinct resource colours report.css defines (`--ls-c0` ... `--ls-c7`). */
export const PALETTE_SIZE = 8;

/**
 * Resource key to palette index. The domain is fixed up front, in the report's resource order, so
 * that the same resource has the same colour in the graph and the timeline, whichever is drawn
 * first.
 */
export function resourceColours(report: Report): ScaleOrdinal<string, number> {
  const keys = new Set<string>();
  for (const r of report.resources) keys.add(r.key);
  for (const i of report.timeline.intervals) keys.add(i.resource);
  for (const n of report.graph.nodes) if (n.type === 'resource') keys.add(n.key);
  return scaleOrdinal<string, number>()
    .domain([...keys])
    .range(Array.from({ length: PALETTE_SIZE }, (_, i) => i));
}

/** A palette index as a CSS colour. It must be set with `.style()`: SVG attributes ignore var(). */
export function colourVar(index: number): string {
  return `var(--ls-c${index})`;
}

export function severityVar(severity: Severity): string {
  return `var(--ls-${severity})`;
}

/** A duration in microseconds, in the unit that keeps it readable. */
export function formatDuration(us: number): string {
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 1_000_000) return `${trim(us / 1000)} ms`;
  return `${trim(us / 1_000_000)} s`;
}

function trim(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** `file:line`, the form editors and terminals turn into links. */
export function siteText(site: Pick<SiteRef, 'file' | 'line'>): string {
  return `${site.file}:${site.line}`;
}

/**
 * The width available inside `el` (its content box), or `fallback` when the page is not laid out
 * (a hidden panel, a detached element). Padding is left out, so a drawing of this width fits.
 */
export function contentWidth(el: Element, fallback: number, min: number): number {
  const width = el.getBoundingClientRect().width;
  return width > 0 ? Math.max(Math.floor(width), min) : fallback;
}

/** Counts the render calls on a page, so the ids of SVG definitions never collide. */
let instances = 0;
export function uniqueId(prefix: string): string {
  instances += 1;
  return `${prefix}-${instances}`;
}
