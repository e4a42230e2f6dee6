/**
 * The messages between the extension host and the graph webview. Commands go from the webview to
 * the host; `did...` notifications go from the host to the webview. Both sides validate what they
 * receive: a webview is a browser page, and its messages are input like any other.
 */
import type { Report } from '../../runtime-probe/src/analysis/types.js';

export type ToHost =
  { type: 'ready' } | { type: 'openSource'; file: string; line: number; column?: number };

export type ToWebview = { type: 'didReport'; report: Report; live: boolean };

/** Returns the command, or a reason it is not one. */
export function parseToHost(value: unknown): ToHost | string {
  if (typeof value !== 'object' || value === null) return 'a message must be an object';
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
      return { type: 'ready' };
    case 'openSource': {
      if (typeof m.file !== 'string' || m.file === '') return 'openSource: file must be a path';
      if (!Number.isInteger(m.line) || (m.line as number) < 1) {
        return 'openSource: line must be a whole number from 1';
      }
      if (m.column !== undefined && (!Number.isInteger(m.column) || (m.column as number) < 1)) {
        return 'openSource: column must be a whole number from 1';
      }
      return {
        type: 'openSource',
        file: m.file,
        line: m.line as number,
        ...(m.column !== undefined ? { column: m.column as number } : {}),
      };
    }
    default:
      return `unknown message type ${JSON.stringify(m.type)}`;
  }
}

/** Returns the notification, or a reason it is not one. */
export function parseToWebview(value: unknown): ToWebview | string {
  if (typeof value !== 'object' || value === null) return 'a message must be an object';
  const m = value as Record<string, unknown>;
  if (m.type !== 'didReport') return `unknown message type ${JSON.stringify(m.type)}`;
  const report = m.report as Partial<Report> | undefined;
  if (report?.version !== 1 || !Array.isArray(report.findings)) {
    return 'didReport: report must be a version 1 report';
  }
  return { type: 'didReport', report: report as Report, live: m.live === true };
}
