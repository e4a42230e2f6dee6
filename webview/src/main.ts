/**
 * The graph panel's webview: the App (toolbar, wait-for and lock-order graphs, details, timeline)
 * fed by the extension host's `didReport` notifications. Every message is validated before it is
 * used; the view's state is kept with `vscode.setState`, so hiding and showing the panel (which
 * reloads the page) brings back the same moment, zoom, search and selection.
 */
import './report.css';
import { App } from './app.js';
import type { LockscopeDebug } from './debug.js';
import { parseState, parseToWebview, type ToHost, type ViewState } from './protocol.js';

interface VsCodeApi {
  postMessage(message: ToHost): void;
  getState(): unknown;
  setState(state: ViewState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

declare global {
  interface Window {
    __lockscope?: LockscopeDebug;
  }
}

const vscode = acquireVsCodeApi();
const root = document.getElementById('root') ?? document.body;
const app = new App(
  root,
  {
    openSource: (site) => vscode.postMessage({ type: 'openSource', ...site }),
    saveState: (state) => vscode.setState(state),
  },
  { mode: 'live', layout: 'panel', state: parseState(vscode.getState()) },
);
window.__lockscope = app.debugHook();

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const m = parseToWebview(event.data);
  if (typeof m === 'string') {
    console.warn(`Lockscope: ignored a message: ${m}`);
    return;
  }
  app.receive(m.report, m.live, m.timeline);
});

vscode.postMessage({ type: 'ready' });
