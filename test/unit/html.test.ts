// The standalone HTML report: the report's JSON survives the trip through the page, names from the
// program cannot break out of the data element, and the renderer is found (or clearly missing).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../../runtime-probe/src/analysis/types.js';
import {
  REPORT_ELEMENT_ID,
  loadRenderer,
  renderHtml,
  type Renderer,
} from '../../runtime-probe/src/report/html.js';

const RENDERER: Renderer = { js: 'window.rendered = true;', css: 'body { margin: 0; }' };
const EVIL = '</script><script>alert(1)</script>';

function dining(): Report {
  const url = new URL('../fixtures/report-dining.json', import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as Report;
}

/** A report whose names try every way out of a `<script>` element. */
function hostile(): Report {
  const report = dining();
  const fork = report.resources[0]!;
  fork.name = EVIL;
  report.graph.nodes.find((n) => n.key === fork.key)!.label = EVIL;
  report.findings[0]!.message = `<!-- ${EVIL} --> & <b>bold</b> \u2028 line`;
  report.timeline.lanes[0]!.name = '</SCRIPT >';
  return report;
}

/** The text of the report's data element, as a browser's HTML parser would delimit it. */
function dataElement(html: string): string {
  const open = `<script type="application/json" id="${REPORT_ELEMENT_ID}">`;
  const start = html.indexOf(open);
  assert.ok(start >= 0, 'the page has the report data element');
  // Inside a script element the parser ends the element at the first `</script`, in any case.
  const end = html.toLowerCase().indexOf('</script', start + open.length);
  return html.slice(start + open.length, end);
}

function count(haystack: string, needle: string): number {
  return haystack.toLowerCase().split(needle.toLowerCase()).length - 1;
}

describe('renderHtml', () => {
  it('carries the report as JSON that parses back to the same report', () => {
    const report = dining();
    assert.deepEqual(JSON.parse(dataElement(renderHtml(report, RENDERER))), report);
  });

  it('keeps names like </script> inside the data element', () => {
    const report = hostile();
    const html = renderHtml(report, RENDERER);
    assert.deepEqual(JSON.parse(dataElement(html)), report);
    assert.ok(!html.includes(EVIL), 'the raw name does not appear in the page');
    assert.ok(!html.includes('<!--'), 'nothing opens an HTML comment');
    // Exactly two script elements: the data and the renderer.
    assert.equal(count(html, '<script'), 2);
    assert.equal(count(html, '</script'), 2);
  });

  it('produces one document with the styles, the data and then the renderer', () => {
    const html = renderHtml(dining(), RENDERER, 'Dining <philosophers> & co');
    assert.match(html, /^<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">/);
    assert.equal(count(html, '<html'), 1);
    assert.equal(count(html, '</html>'), 1);
    assert.equal(count(html, '<body>'), 1);
    assert.equal(count(html, '<div id="root"></div>'), 1);
    assert.ok(html.includes(`<style>${RENDERER.css}</style>`));
    assert.ok(html.includes('<title>Dining &lt;philosophers&gt; &amp; co</title>'));
    const data = html.indexOf(`id="${REPORT_ELEMENT_ID}"`);
    const script = html.indexOf(`<script>${RENDERER.js}</script>`);
    assert.ok(data > 0 && script > data, 'the renderer runs after the data it reads is parsed');
    assert.ok(html.indexOf('</body>') > script);
  });

  it('keeps a renderer that contains </script> or </style> from closing its element', () => {
    const html = renderHtml(dining(), {
      js: 'const s = "</script><b>"; const c = "<!--";',
      css: '.a::after { content: "</style>"; }',
    });
    assert.equal(count(html, '</script'), 2);
    assert.equal(count(html, '</style'), 1);
    assert.ok(html.includes('const s = "<\\/script><b>"; const c = "<\\!--";'));
  });
});

describe('loadRenderer', () => {
  it('reads the script and the styles from the given folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockscope-renderer-'));
    try {
      writeFileSync(join(dir, 'report-renderer.js'), 'js();');
      writeFileSync(join(dir, 'report-renderer.css'), 'css{}');
      assert.deepEqual(loadRenderer(dir), { js: 'js();', css: 'css{}' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says to build when the renderer is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockscope-renderer-'));
    try {
      assert.throws(() => loadRenderer(dir), /report-renderer\.js.*run npm run build/s);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
