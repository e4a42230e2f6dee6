/**
 * The findings list: one entry per finding with its severity, kind and message, the sites involved
 * as `file:line` with what happens there, and the suggested fix. Text only goes in through
 * `textContent`, so names from the program can never become markup.
 */
import { select } from 'd3';
import type { Finding, Report } from 'lockscope/report';
import { siteText } from './common.js';

const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 } as const;

export function renderFindings(container: HTMLElement, report: Report): void {
  const section = select(container).append('div').attr('class', 'ls-findings');
  if (report.findings.length === 0) {
    section.append('p').attr('class', 'ls-empty').text('No findings.');
    return;
  }
  // Errors first; within a severity, in the order the analysis found them.
  const findings = report.findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => SEVERITY_ORDER[a.f.severity] - SEVERITY_ORDER[b.f.severity] || a.i - b.i)
    .map(({ f }) => f);
  const items = section
    .append('ol')
    .selectAll<HTMLLIElement, Finding>('li')
    .data(findings, (f) => f.id)
    .join('li')
    .attr('class', (f) => `ls-finding ${f.severity}`)
    .attr('id', (f) => `finding-${f.id.replace(/[^\w-]/g, '_')}`);
  const head = items.append('div').attr('class', 'ls-finding-head');
  head
    .append('span')
    .attr('class', 'ls-severity')
    .text((f) => f.severity);
  head
    .append('span')
    .attr('class', 'ls-kind')
    .text((f) => f.kind);
  head
    .append('span')
    .attr('class', 'ls-message')
    .text((f) => f.message);
  items
    .filter((f) => f.sites.length > 0)
    .append('ul')
    .attr('class', 'ls-sites')
    .selectAll('li')
    .data((f) => f.sites)
    .join('li')
    .call((li) => {
      // The file and line ride on the element, so that a host (the VS Code webview) can open
      // the source when it is clicked.
      li.append('code')
        .attr('class', 'ls-site')
        .attr('data-file', (s) => s.file)
        .attr('data-line', (s) => s.line)
        .text((s) => siteText(s));
      li.append('span')
        .attr('class', 'ls-role')
        .text((s) => `${s.fn ? ` in ${s.fn}` : ''}: ${s.role}`);
    });
  items
    .filter((f) => f.fix.length > 0)
    .append('p')
    .attr('class', 'ls-fix')
    .text((f) => `Fix: ${f.fix}`);
}
