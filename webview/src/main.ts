/**
 * The graph panel's webview: draws the session's report with the same renderer as the CLI's
 * HTML report, and redraws it when the extension sends a new one. Issue 6 grows it (playback,
 * keyed live updates, details); this version already validates every message it receives.
 */
import './report.css';
import { parseToWebview, type ToHost } from './protocol.js';
import { renderReport } from './render/report-view.js';

interface VsCodeApi {
  postMessage(message: ToHost): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const root = document.getElementById('root') ?? document.body;

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const m = parseToWebview(event.data);
  if (typeof m === 'string') {
    console.warn(`Lockscope: ignored a message: ${m}`);
    return;
  }
  root.replaceChildren();
  renderReport(root, m.report, m.live ? 'Lockscope session' : 'Lockscope report');
});

// Clicking a source location asks the extension to open it.
root.addEventListener('click', (event) => {
  const target = (event.target as HTMLElement | null)?.closest<HTMLElement>('[data-file]');
  if (!target) return;
  const line = Number(target.dataset.line);
  if (target.dataset.file && Number.isInteger(line) && line >= 1) {
    vscode.postMessage({ type: 'openSource', file: target.dataset.file, line });
  }
});

vscode.postMessage({ type: 'ready' });
