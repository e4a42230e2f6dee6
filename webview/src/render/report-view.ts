/**
 * A whole report on one page: a header with the counts, the findings, and the same view as the VS
 * Code panel (playback, wait-for and lock-order graphs, details, timeline) on the finished report.
 * The standalone HTML report (`report.ts`) draws this.
 */
import { select, type Selection } from 'd3';
import type { Report } from 'lockscope/report';
import { App } from '../app.js';
import { formatDuration } from './common.js';
import { renderFindings } from './findings.js';

export function renderReport(root: HTMLElement, report: Report, title = 'Lockscope report'): App {
  const page = select(root).append('main').attr('class', 'ls-report');
  renderHeader(page, report, title);

  const findings = section(page, 'Findings', 'findings');
  renderFindings(findings.body.node()!, report);

  const view = section(page, 'Wait-for graph and timeline', 'view');
  view.head
    .append('span')
    .attr('class', 'ls-hint')
    .text(
      'the end of the report; play it back, step with ← and →, or click the ruler to see any moment · ' +
        'Ctrl+wheel zooms',
    );
  const app = new App(
    view.body.node()!,
    {
      // A page opened from a file has no editor to ask; VS Code's URL handler opens the file when
      // VS Code is installed, and does nothing otherwise.
      openSource: (site) => {
        window.location.href = `vscode://file${site.file.startsWith('/') ? '' : '/'}${site.file}:${site.line}:${site.column ?? 1}`;
      },
      saveState: () => undefined,
    },
    { mode: 'static', layout: 'page' },
  );
  app.receive(report, false);
  return app;
}

type Parent = Selection<HTMLElement, unknown, null, undefined>;
type Div = Selection<HTMLDivElement, unknown, null, undefined>;

function section(page: Parent, heading: string, name: string): { head: Div; body: Div } {
  const s = page.append('section').attr('class', `ls-section ls-${name}-section`);
  const head = s.append('div').attr('class', 'ls-section-head');
  head.append('h2').text(heading);
  const body = s.append('div').attr('class', 'ls-section-body');
  return { head, body };
}

function renderHeader(page: Parent, report: Report, title: string): void {
  const header = page.append('header').attr('class', 'ls-header');
  header.append('h1').text(title);

  const tasks = new Set(report.timeline.lanes.map((l) => l.task));
  for (const n of report.graph.nodes) if (n.type === 'task') tasks.add(n.key);
  const resources = new Set(report.resources.map((r) => r.key));
  for (const n of report.graph.nodes) if (n.type === 'resource') resources.add(n.key);
  let lastUs = 0;
  for (const i of report.timeline.intervals) lastUs = Math.max(lastUs, i.start, i.end ?? 0);
  for (const f of report.findings) lastUs = Math.max(lastUs, f.at);
  const bySeverity = { error: 0, warning: 0, info: 0 };
  for (const f of report.findings) bySeverity[f.severity] += 1;

  const counts = header.append('div').attr('class', 'ls-counts');
  const count = (n: number, one: string, many: string, cls = ''): void => {
    const c = counts.append('span').attr('class', `ls-count ${cls}`);
    c.append('strong').text(String(n));
    c.append('span').text(` ${n === 1 ? one : many}`);
  };
  count(bySeverity.error, 'error', 'errors', bySeverity.error > 0 ? 'error' : '');
  count(bySeverity.warning, 'warning', 'warnings', bySeverity.warning > 0 ? 'warning' : '');
  if (bySeverity.info > 0) count(bySeverity.info, 'note', 'notes', 'info');
  count(tasks.size, 'task', 'tasks');
  count(resources.size, 'resource', 'resources');
  count(report.processes.length, 'process', 'processes');

  const meta = header.append('div').attr('class', 'ls-meta');
  const started = new Date(report.origin);
  meta
    .append('span')
    .text(
      `Recorded ${Number.isNaN(started.getTime()) ? 'at an unknown time' : started.toLocaleString()}` +
        ` · ${formatDuration(lastUs)} of timeline`,
    );
  const dropped = report.processes.reduce((s, p) => s + p.dropped, 0);
  if (dropped > 0) {
    // Dropped events mean missing intervals and edges, so the reader has to know before trusting
    // the absence of something.
    meta
      .append('span')
      .attr('class', 'ls-warning-text')
      .text(` · ${dropped} events were dropped by the probe; the picture may be incomplete`);
  }
}
