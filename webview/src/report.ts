/**
 * The entry of the standalone HTML report (`lockscope report --html`). The page carries the report
 * as JSON in `<script type="application/json" id="lockscope-report">` and this bundle, inlined after
 * it, draws it into `#root`: the same App as the VS Code panel, playback included, on the one
 * finished report.
 */
import './report.css';
import type { Report } from 'lockscope/report';
import type { LockscopeDebug } from './debug.js';
import { parseToWebview } from './protocol.js';
import { renderReport } from './render/report-view.js';

declare global {
  interface Window {
    __lockscope?: LockscopeDebug;
  }
}

function main(): void {
  // The page follows the system's colour scheme; the stylesheet's light colours hang on a class,
  // because inside VS Code the body's theme class decides instead.
  const light = matchMedia('(prefers-color-scheme: light)');
  const scheme = (): void => void document.body.classList.toggle('ls-prefers-light', light.matches);
  scheme();
  light.addEventListener('change', scheme);
  const root =
    document.getElementById('root') ?? document.body.appendChild(document.createElement('div'));
  let report: Report;
  try {
    report = readReport();
  } catch (err) {
    const p = document.createElement('p');
    p.className = 'ls-fatal';
    p.textContent = `Lockscope cannot show this report: ${err instanceof Error ? err.message : String(err)}`;
    root.replaceChildren(p);
    throw err;
  }
  const app = renderReport(root, report, document.title || undefined);
  window.__lockscope = app.debugHook();
}

function readReport(): Report {
  const el = document.getElementById('lockscope-report');
  if (!el?.textContent) throw new Error('the page has no report data (#lockscope-report).');
  const data = JSON.parse(el.textContent) as Partial<Report> | null;
  if (data?.version !== 1) {
    throw new Error(`the report is version ${String(data?.version)}; this page reads version 1.`);
  }
  // The same checks as a message from the extension: a report edited by hand, or written by a
  // newer lockscope, gets a message naming what is wrong rather than a broken page.
  const checked = parseToWebview({ type: 'didReport', report: data, live: false });
  if (typeof checked === 'string') throw new Error(checked.replace(/^didReport: /, ''));
  return checked.report;
}

main();
