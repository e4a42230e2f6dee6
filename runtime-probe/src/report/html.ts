/**
 * The standalone HTML report: one file that opens in any browser without a server or a network,
 * because it carries everything: the renderer's CSS and script (built from webview/src/report.ts
 * into dist/report-renderer.{js,css}) and the report itself as JSON, which the script reads and
 * draws.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Report } from '../analysis/types.js';
import { moduleDir } from '../module-dir.js';
import { writeJson } from './json-writer.js';

export interface Renderer {
  js: string;
  css: string;
}

/** The id of the element holding the report's JSON; webview/src/report.ts reads it. */
export const REPORT_ELEMENT_ID = 'lockscope-report';

/** The most recent intervals the page shows: a browser draws them all at once. */
export const PAGE_INTERVALS = 50_000;
/** The busiest resources whose statistics the page carries. */
export const PAGE_RESOURCE_STATS = 1_000;

/**
 * The report as the page carries it: the time line cut to its last `maxIntervals` intervals
 * (the rest counted in `omitted`), the resources those and the graph name, and the busiest
 * resources' statistics, so that the file stays a size a browser opens whatever the run was.
 */
export function pageReport(report: Report, maxIntervals = PAGE_INTERVALS): Report {
  const { timeline } = report;
  if (
    timeline.intervals.length <= maxIntervals &&
    report.stats.resources.length <= PAGE_RESOURCE_STATS
  ) {
    return report;
  }
  const intervals = timeline.intervals.slice(Math.max(0, timeline.intervals.length - maxIntervals));
  const tasks = new Set(intervals.map((i) => i.task));
  const named = new Set(intervals.map((i) => i.resource));
  for (const n of report.graph.nodes) if (n.type === 'resource') named.add(n.key);
  const busiest = [...report.stats.resources]
    .sort((a, b) => b.contended - a.contended || b.acquisitions - a.acquisitions)
    .slice(0, PAGE_RESOURCE_STATS);
  return {
    ...report,
    stats: { resources: busiest, sites: report.stats.sites },
    timeline: {
      lanes: timeline.lanes.filter((l) => tasks.has(l.task)),
      intervals,
      omitted: timeline.omitted + (timeline.intervals.length - intervals.length),
    },
    resources: report.resources.filter((r) => named.has(r.key)),
  };
}

/**
 * Writes the complete HTML document for `report` in pieces. Pure: the renderer is passed in (see
 * `loadRenderer`), so tests and other hosts can supply their own.
 */
export function writeHtml(
  report: Report,
  renderer: Renderer,
  title: string,
  write: (piece: string) => void,
): void {
  write(
    [
      '<!doctype html>',
      '<html lang="en">',
      '<head>',
      '<meta charset="utf-8">',
      '<meta name="viewport" content="width=device-width, initial-scale=1">',
      '<meta name="color-scheme" content="dark light">',
      '<meta name="generator" content="lockscope">',
      `<title>${escapeText(title)}</title>`,
      `<style>${escapeRawText(renderer.css, 'style')}</style>`,
      '</head>',
      '<body>',
      '<div id="root"></div>',
      `<script type="application/json" id="${REPORT_ELEMENT_ID}">`,
    ].join('\n'),
  );
  writeJson(pageReport(report), write, { escapeLt: true });
  write(
    [
      '</script>',
      `<script>${escapeRawText(renderer.js, 'script')}</script>`,
      '</body>',
      '</html>',
      '',
    ].join('\n'),
  );
}

/** The complete HTML document for `report`, as one string (see writeHtml). */
export function renderHtml(report: Report, renderer: Renderer, title = 'Lockscope report'): string {
  const pieces: string[] = [];
  writeHtml(report, renderer, title, (p) => pieces.push(p));
  return pieces.join('');
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Keeps the contents of a raw-text element (`<style>`, `<script>`) from closing it early. The
 * renderer is our own build and esbuild already escapes `</script` in strings, so this only guards
 * against a change in the build: `<\/` means the same inside JavaScript strings, regular
 * expressions and CSS strings.
 */
function escapeRawText(text: string, element: 'style' | 'script'): string {
  const close = new RegExp(`</(${element})`, 'gi');
  const escaped = text.replace(close, '<\\/$1');
  return element === 'script' ? escaped.replace(/<!--/g, '<\\!--') : escaped;
}

/**
 * Reads the built renderer. The CLI is bundled into dist/cli.cjs, where `__dirname` is dist and the
 * files sit beside it; run from source (tsx, tests) `moduleDir()` is src/ and the build is in
 * ../dist. `dir` overrides both.
 */
export function loadRenderer(dir?: string): Renderer {
  const candidates = dir ? [dir] : [moduleDir(), resolve(moduleDir(), '../dist')];
  for (const d of candidates) {
    try {
      return {
        js: readFileSync(join(d, 'report-renderer.js'), 'utf8'),
        css: readFileSync(join(d, 'report-renderer.css'), 'utf8'),
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  throw new Error(
    `the HTML report renderer is missing (looked for report-renderer.js and report-renderer.css ` +
      `in ${candidates.join(' and ')}); run npm run build`,
  );
}
