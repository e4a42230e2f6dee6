/**
 * The entry of the standalone HTML report (`lockscope report --html`). The page carries the report
 * as JSON in `<script type="application/json" id="lockscope-report">` and this bundle, inlined after
 * it, draws it into `#root`.
 */
import './report.css';
import type { Report } from '../../runtime-probe/src/analysis/types.js';
import { renderReport } from './render/report-view.js';

function main(): void {
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
  renderReport(root, report, document.title || undefined);
}

function readReport(): Report {
  const el = document.getElementById('lockscope-report');
  if (!el?.textContent) throw new Error('the page has no report data (#lockscope-report).');
  const data = JSON.parse(el.textContent) as Partial<Report> | null;
  if (data?.version !== 1) {
    throw new Error(`the report is version ${String(data?.version)}; this page reads version 1.`);
  }
  // The shape is trusted beyond the version: the page and the data come from the same `lockscope`.
  return data as Report;
}

main();
