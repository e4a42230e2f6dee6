/**
 * The graph panel as a feature: Show Graph opens it with the session's report, and every change
 * of the session reaches an open panel (graph-panel.ts paces what it posts to the webview).
 */
import type { LiveState, Report } from 'lockscope/report';
import { settings } from '../settings.js';
import { GraphPanel } from './graph-panel.js';
import type { Host } from './host.js';

export interface GraphView {
  show(): void;
  /** Sends the session as it is now to an open panel; `state` is its live state without tasks. */
  refresh(state: LiveState): void;
}

export function registerGraph(host: Host): GraphView {
  /** The report of the session as it is, built at most once per change. */
  let report: Report | undefined;
  // The panel keeps only the most recent intervals for playback; building more is waste.
  const current = (): Report =>
    (report ??= host.view().report({
      maxIntervals: settings(host.log).playbackIntervals,
    }));
  return {
    show() {
      GraphPanel.show(host.context.extensionUri, current(), host.log);
    },
    refresh(state) {
      report = undefined;
      // Live while a program still reports; once all have ended the panel says so.
      const live =
        state.processes.length === 0 || state.processes.some((p) => p.status === 'running');
      GraphPanel.current?.update(current(), live);
    },
  };
}
