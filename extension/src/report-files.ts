/**
 * The source files a report names. The graph panel opens only these: a webview message is input
 * from outside, and opening any path it names (a UNC path on Windows is a network lookup) would
 * let a compromised page reach beyond the report. Pure, tested on plain Node.
 */
import type { Report } from 'lockscope/report';

/** Every `file` of every site in `report` (findings, their stacks, the time line, statistics). */
export function reportFiles(report: Report): Set<string> {
  const files = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (key === 'file' && typeof item === 'string' && item !== '') files.add(item);
        else visit(item);
      }
    }
  };
  visit(report.findings);
  visit(report.timeline.intervals);
  visit(report.graph);
  // Statistics name their sites by key, `file:line:column`.
  for (const s of report.stats.sites) {
    const column = s.key.lastIndexOf(':');
    const line = s.key.lastIndexOf(':', column - 1);
    if (line > 0) files.add(s.key.slice(0, line));
  }
  return files;
}
