/**
 * The session's findings in the editor: diagnostics (less those a `lockscope-ignore` comment
 * suppresses), an inline text at each offending line, hovers, a CodeLens of contention at each
 * acquisition, the code actions that fix what was found, and the status bar's summary.
 */
import * as vscode from 'vscode';
import type { Finding, LiveState } from 'lockscope/report';
import {
  registerCodeActions,
  registerUnreleasedLockDiagnostics,
  type FindingHint,
} from '../codeactions/provider.js';
import { isSuppressed } from '../codeactions/suppress.js';
import { COMMANDS } from '../contributions.js';
import {
  diagnosticsFor,
  hoverMarkdown,
  lensText,
  siteKeyPlace,
  statusText,
  type DiagnosticSpec,
} from '../presenter.js';
import type { Host } from './host.js';

/** The languages whose files findings point into. */
const SOURCES: vscode.DocumentSelector = [
  { language: 'typescript' },
  { language: 'javascript' },
  { language: 'typescriptreact' },
  { language: 'javascriptreact' },
];

const SEVERITY: Record<Finding['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

export interface FindingsView {
  /** Shows the session as it is now; `state` is its live state without tasks. */
  refresh(state: LiveState): void;
}

export function registerFindings(host: Host): FindingsView {
  const diagnostics = vscode.languages.createDiagnosticCollection('lockscope');
  const decoration = vscode.window.createTextEditorDecorationType({
    after: { margin: '0 0 0 2em', color: new vscode.ThemeColor('editorError.foreground') },
    isWholeLine: true,
  });
  const status = vscode.window.createStatusBarItem(
    'lockscope.status',
    vscode.StatusBarAlignment.Left,
    50,
  );
  status.name = 'Lockscope';
  status.command = COMMANDS.showGraph;
  status.tooltip = 'Lockscope: show the wait-for graph';
  const lensesChanged = new vscode.EventEmitter<void>();
  let specs = new Map<string, DiagnosticSpec[]>();
  /** The findings the diagnostics were last made from. */
  let shown: { list: readonly Finding[] | undefined; count: number } = {
    list: undefined,
    count: 0,
  };

  const decorate = (): void => {
    for (const editor of vscode.window.visibleTextEditors) {
      const lines = specs.get(editor.document.uri.fsPath) ?? [];
      editor.setDecorations(
        decoration,
        lines.map((s) => ({
          range: new vscode.Range(s.line, 0, s.line, 0),
          renderOptions: { after: { contentText: s.inline } },
        })),
      );
    }
  };

  const applyDiagnostics = (): void => {
    diagnostics.clear();
    const open = new Map(vscode.workspace.textDocuments.map((d) => [d.uri.fsPath, d]));
    for (const [file, list] of specs) {
      const text = open.get(file)?.getText();
      const kept =
        text === undefined ? list : list.filter((s) => !isSuppressed(text, s.line, s.code));
      diagnostics.set(vscode.Uri.file(file), kept.map(toDiagnostic));
    }
    decorate();
  };

  /** The findings shown at a range, for the code actions (suppress, reorder). */
  const findingsAt = (uri: vscode.Uri, range: vscode.Range): FindingHint[] => {
    const hints: FindingHint[] = [];
    for (const s of specs.get(uri.fsPath) ?? []) {
      if (s.line < range.start.line || s.line > range.end.line) continue;
      const f = host.view().findings.find((x) => x.id === s.findingId);
      if (!f) continue;
      // An inversion's fix names the order to keep: the first lock in it goes first.
      const first =
        f.kind === 'lock-order-inversion'
          ? [...f.resources].sort((a, b) => (a.name < b.name ? -1 : 1))[0]?.name
          : undefined;
      hints.push({ kind: f.kind, line: s.line, ...(first ? { firstLock: first } : {}) });
    }
    return hints;
  };

  const hover = (document: vscode.TextDocument, position: vscode.Position) => {
    const here = specs.get(document.uri.fsPath)?.filter((s) => s.line === position.line);
    if (!here?.length) return undefined;
    const ids = new Set(here.map((s) => s.findingId));
    const found = host.view().findings.filter((f) => ids.has(f.id));
    return new vscode.Hover(found.map((f) => new vscode.MarkdownString(hoverMarkdown(f))));
  };

  const lenses = (document: vscode.TextDocument): vscode.CodeLens[] => {
    const result: vscode.CodeLens[] = [];
    for (const s of host.view().siteStats()) {
      const at = siteKeyPlace(s.key);
      if (!at || at.file !== document.uri.fsPath) continue;
      result.push(
        new vscode.CodeLens(new vscode.Range(at.line, 0, at.line, 0), {
          title: lensText(s),
          command: COMMANDS.showGraph,
          tooltip: `${s.name}: contention at this acquisition`,
        }),
      );
    }
    return result;
  };

  host.context.subscriptions.push(
    diagnostics,
    decoration,
    status,
    lensesChanged,
    vscode.window.onDidChangeVisibleTextEditors(decorate),
    vscode.languages.registerHoverProvider(SOURCES, { provideHover: hover }),
    vscode.languages.registerCodeLensProvider(SOURCES, {
      onDidChangeCodeLenses: lensesChanged.event,
      provideCodeLenses: lenses,
    }),
    registerCodeActions({ findingAt: findingsAt }),
    // A new or removed `lockscope-ignore` comment shows at once; other documents (the output
    // channel among them, on every log line) do not matter.
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (specs.has(e.document.uri.fsPath)) applyDiagnostics();
    }),
  );
  registerUnreleasedLockDiagnostics(host.context);
  status.show();

  return {
    refresh(state) {
      const { findings } = host.view();
      // Findings only grow (a reset brings a new list): the diagnostics change only with them.
      if (findings !== shown.list || findings.length !== shown.count) {
        shown = { list: findings, count: findings.length };
        specs = diagnosticsFor(findings);
        applyDiagnostics();
      }
      status.text = statusText(state.processes.length, findings);
      lensesChanged.fire();
    },
  };
}

function toDiagnostic(s: DiagnosticSpec): vscode.Diagnostic {
  const range = new vscode.Range(s.line, s.column, s.line, Number.MAX_SAFE_INTEGER);
  const d = new vscode.Diagnostic(range, s.message, SEVERITY[s.severity]);
  d.source = 'lockscope';
  d.code = s.code;
  d.relatedInformation = s.related.map(
    (r) =>
      new vscode.DiagnosticRelatedInformation(
        new vscode.Location(vscode.Uri.file(r.file), new vscode.Position(r.line, r.column)),
        r.message,
      ),
  );
  return d;
}
