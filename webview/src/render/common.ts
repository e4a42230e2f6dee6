/**
 * Helpers shared by the views: durations, moments and source locations as text, and small DOM
 * builders. Text only ever goes in through `textContent`, so names from the program can never
 * become markup.
 */
import type { SiteRef } from 'lockscope/report';

/** A palette index as a CSS colour (for HTML and SVG; canvases use the theme's values). */
export function colourVar(index: number): string {
  return `var(--ls-c${index})`;
}

/** A duration in microseconds, in the unit that keeps it readable. */
export function formatDuration(us: number): string {
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 1_000_000) return `${trim(us / 1000)} ms`;
  return `${trim(us / 1_000_000)} s`;
}

/** A moment in microseconds since the origin, as milliseconds (or seconds past a minute). */
export function formatTime(us: number): string {
  const ms = us / 1000;
  if (ms >= 60_000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 1000) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(3)} ms`;
}

function trim(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** `file:line`, the form editors and terminals turn into links. */
export function siteText(site: Pick<SiteRef, 'file' | 'line'>): string {
  return `${site.file}:${site.line}`;
}

/** The last part of a path, for places where the whole path does not fit. */
export function baseName(file: string): string {
  const i = Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
  return i >= 0 ? file.slice(i + 1) : file;
}

/** Creates an element with a class and, optionally, its text. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** An inline SVG icon from path data in a 16 by 16 box, stroked in the current text colour. */
export function icon(path: string, filled = false): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('aria-hidden', 'true');
  svg.classList.add('ls-icon');
  const p = document.createElementNS(ns, 'path');
  p.setAttribute('d', path);
  if (filled) p.classList.add('filled');
  svg.appendChild(p);
  return svg;
}

/**
 * A source site as a link. The file and line ride on the element (`data-file`, `data-line`,
 * `data-column`), and a click anywhere in the view is turned into an `openSource` command.
 */
export function siteLink(site: Pick<SiteRef, 'file' | 'line' | 'column' | 'fn'>): HTMLElement {
  const a = el('button', 'ls-site');
  a.type = 'button';
  a.dataset.file = site.file;
  a.dataset.line = String(site.line);
  if (site.column > 0) a.dataset.column = String(site.column);
  a.title = `Open ${site.file}:${site.line}${site.column > 0 ? `:${site.column}` : ''}`;
  a.textContent = `${baseName(site.file)}:${site.line}`;
  return a;
}

/** Shows a tooltip near the pointer, kept inside the view. */
export function showTooltip(
  tooltip: HTMLDivElement,
  lines: string[],
  x: number,
  y: number,
  width: number,
  height: number,
): void {
  tooltip.replaceChildren(
    ...lines.map((line, i) => {
      const div = document.createElement('div');
      div.textContent = line;
      if (i === 0) div.className = 'ls-tooltip-title';
      return div;
    }),
  );
  tooltip.hidden = false;
  const r = tooltip.getBoundingClientRect();
  const left = x + 14 + r.width > width ? Math.max(0, x - 14 - r.width) : x + 14;
  const top = y + 14 + r.height > height ? Math.max(0, y - 14 - r.height) : y + 14;
  tooltip.style.left = `${left}px`;
  tooltip.style.top = `${top}px`;
}
