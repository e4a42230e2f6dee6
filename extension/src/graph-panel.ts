/**
 * The "Lockscope: Show Graph" panel: a webview that draws the session's report with the shared
 * renderer. A strict content security policy (a nonce, no inline script, no eval), and every
 * message from the webview validated before it is acted on.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { Report } from '../../runtime-probe/src/analysis/types.js';
import { parseToHost, type ToWebview } from '../../webview/src/protocol.js';

export class GraphPanel {
  static current: GraphPanel | undefined;
  readonly #panel: vscode.WebviewPanel;
  #ready = false;
  #pending: Report | undefined;

  private constructor(
    panel: vscode.WebviewPanel,
    private readonly log: (line: string) => void,
  ) {
    this.#panel = panel;
    panel.onDidDispose(() => {
      if (GraphPanel.current === this) GraphPanel.current = undefined;
    });
    panel.webview.onDidReceiveMessage((raw: unknown) => this.#receive(raw));
  }

  /** Shows the panel, creating it if needed, and draws `report`. */
  static show(extensionUri: vscode.Uri, report: Report, log: (line: string) => void): GraphPanel {
    if (GraphPanel.current) {
      GraphPanel.current.#panel.reveal(vscode.ViewColumn.Beside, true);
    } else {
      const dist = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
      const panel = vscode.window.createWebviewPanel(
        'lockscope.graph',
        'Lockscope Graph',
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        { enableScripts: true, localResourceRoots: [dist], retainContextWhenHidden: false },
      );
      panel.webview.html = html(panel.webview, dist);
      GraphPanel.current = new GraphPanel(panel, log);
    }
    GraphPanel.current.update(report);
    return GraphPanel.current;
  }

  update(report: Report): void {
    if (!this.#ready) {
      this.#pending = report;
      return;
    }
    const message: ToWebview = { type: 'didReport', report, live: true };
    void this.#panel.webview.postMessage(message);
  }

  #receive(raw: unknown): void {
    const m = parseToHost(raw);
    if (typeof m === 'string') {
      this.log(`graph panel: ignored a message: ${m}`);
      return;
    }
    switch (m.type) {
      case 'ready':
        this.#ready = true;
        if (this.#pending) this.update(this.#pending);
        this.#pending = undefined;
        return;
      case 'openSource': {
        const position = new vscode.Position(m.line - 1, (m.column ?? 1) - 1);
        void vscode.window.showTextDocument(vscode.Uri.file(m.file), {
          selection: new vscode.Range(position, position),
          viewColumn: vscode.ViewColumn.One,
        });
        return;
      }
    }
  }
}

function html(webview: vscode.Webview, dist: vscode.Uri): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'main.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'main.css'));
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${style.toString()}" nonce="${nonce}">
<title>Lockscope Graph</title>
</head>
<body>
<div id="root"></div>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
}
