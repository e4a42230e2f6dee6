/**
 * The "Lockscope: Show Graph" panel, host side. It posts the session's report to the webview as
 * `didReport`, at most five times a second however often the session changes (the newest report
 * wins; the last one is always sent), with the time line packed in columns and cut to its most
 * recent intervals, so that a fast program never floods the webview. It answers the webview's
 * `ready` with the newest report: the webview reloads whenever the panel is hidden and shown
 * again, and restores its own view state. Every message from the webview is validated before it
 * is acted on; the document has a strict content security policy (webview-html.ts).
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { Report } from 'lockscope/report';
import { parseToHost, reportMessage } from '../../../webview/src/protocol.js';
import { reportFiles } from '../report-files.js';
import { settings } from '../settings.js';
import { webviewHtml } from '../webview-html.js';

/** The shortest time between two reports posted to the webview. */
export const REPORT_INTERVAL_MS = 200;

export class GraphPanel {
  static current: GraphPanel | undefined;
  readonly #panel: vscode.WebviewPanel;
  #ready = false;
  #latest: { report: Report; live: boolean } | undefined;
  #sent: { report: Report; live: boolean } | undefined;
  #lastPost = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  private constructor(
    panel: vscode.WebviewPanel,
    private readonly log: (line: string) => void,
  ) {
    this.#panel = panel;
    panel.onDidDispose(() => {
      if (this.#timer) clearTimeout(this.#timer);
      if (GraphPanel.current === this) GraphPanel.current = undefined;
    });
    panel.onDidChangeViewState(() => {
      // A hidden webview is unloaded (its context is not retained); it says `ready` again when it
      // is shown, and gets the newest report then.
      if (!panel.visible) this.#ready = false;
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
      panel.webview.html = webviewHtml({
        cspSource: panel.webview.cspSource,
        scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'main.js')).toString(),
        styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'main.css')).toString(),
        nonce: randomBytes(16).toString('base64'),
      });
      GraphPanel.current = new GraphPanel(panel, log);
    }
    GraphPanel.current.update(report);
    return GraphPanel.current;
  }

  /**
   * Sends `report` (`live` while the session may still report more), now or, when a report was
   * sent less than REPORT_INTERVAL_MS ago, at the end of that interval.
   */
  update(report: Report, live = true): void {
    this.#latest = { report, live };
    if (!this.#ready || this.#timer) return;
    const wait = this.#lastPost + REPORT_INTERVAL_MS - Date.now();
    if (wait <= 0) {
      this.#post();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#post();
    }, wait);
  }

  #post(): void {
    const latest = this.#latest;
    if (!latest || latest === this.#sent || !this.#ready) return;
    this.#sent = latest;
    this.#lastPost = Date.now();
    void this.#panel.webview.postMessage(
      reportMessage(latest.report, latest.live, settings(() => {}).playbackIntervals),
    );
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
        // A reloaded webview has nothing: it gets the newest report even if it was sent before.
        this.#sent = undefined;
        this.#post();
        return;
      case 'openSource': {
        // What the page shows, or the newest report if an update is on its way to it.
        const named = [this.#sent, this.#latest].some(
          (s) => s && reportFiles(s.report).has(m.file),
        );
        if (!named) {
          this.log('graph panel: ignored a request to open a file the report does not name');
          return;
        }
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
