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

export interface Renderer {
  js: string;
  css: string;
}

/** The id of the element holding the report's JSON; webview/src/report.ts reads it. */
export const REPORT_ELEMENT_ID = 'lockscope-report';

/**
 * The complete HTML document for `report`. Pure: the renderer is passed in (see `loadRenderer`), so
 * tests and other hosts can supply their own.
 */
export function renderHtml(report: Report, renderer: Renderer, title = 'Lockscope report'): string {
  return [
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
    `<script type="application/json" id="${REPORT_ELEMENT_ID}">${jsonForScript(report)}</script>`,
    `<script>${escapeRawText(renderer.js, 'script')}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/**
 * JSON that can sit inside a `<script>` element. Every `<` becomes `\u003c`, which JSON.parse reads
 * back as `<`, so no name in the report (`</script>`, `<!--`) can end the element or change how the
 * HTML parser reads it.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
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
