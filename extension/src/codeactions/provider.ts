/**
 * The VS Code side of the code actions: a thin layer that turns the pure functions' offset edits
 * into WorkspaceEdits, and the static unreleased-lock check into diagnostics. Everything that
 * decides what to edit lives in the pure modules beside this one, which are tested on plain Node.
 */
import * as vscode from 'vscode';
import type { TextEdit } from './edits.js';
import { reorderAcquisitions } from './reorder.js';
import { isSuppressed, suppressFinding } from './suppress.js';
import { addTimeout } from './timeout.js';
import { findUnreleased } from './unreleased.js';
import { convertToUsing } from './using.js';

/** The diagnostic code of the static check, also the kind its suppression comment names. */
export const UNRELEASED_CODE = 'unreleased-lock';
export const DIAGNOSTIC_SOURCE = 'lockscope';

/** The languages the code actions and the static check apply to. */
export const LOCKSCOPE_LANGUAGES: vscode.DocumentSelector = [
  { language: 'typescript' },
  { language: 'typescriptreact' },
  { language: 'javascript' },
  { language: 'javascriptreact' },
];

/** What the extension knows about a runtime finding at a place in a file. */
export interface FindingHint {
  /** The finding's kind, as in the analysis report: 'deadlock', 'lock-order-inversion', ... */
  kind: string;
  /** For a lock-order finding: the lock to take first, as its expression or its last name. */
  firstLock?: string;
  /** The zero-based line the finding is reported on; the range's first line by default. */
  line?: number;
}

export interface CodeActionOptions {
  /** The runtime findings at a range of a document, from the extension's sessions. */
  findingAt?(
    uri: vscode.Uri,
    range: vscode.Range,
  ): FindingHint | readonly FindingHint[] | undefined;
  /** The timeout that "Add a timeout" writes, in milliseconds (1000 by default). */
  timeoutMs?: number;
}

/** Registers the Lockscope code actions for TypeScript and JavaScript documents. */
export function registerCodeActions(options: CodeActionOptions = {}): vscode.Disposable {
  return vscode.languages.registerCodeActionsProvider(
    LOCKSCOPE_LANGUAGES,
    new LockscopeCodeActions(options),
    { providedCodeActionKinds: LockscopeCodeActions.kinds },
  );
}

class LockscopeCodeActions implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix, vscode.CodeActionKind.RefactorRewrite];

  constructor(private readonly options: CodeActionOptions) {}

  provideCodeActions(
    document: vscode.TextDocument,
    range: vscode.Range | vscode.Selection,
    context: vscode.CodeActionContext,
  ): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    const add = (action: vscode.CodeAction | undefined): void => {
      if (action?.kind && (!context.only || context.only.contains(action.kind)))
        actions.push(action);
    };
    const text = document.getText();
    const findings = this.#findings(document, range, context);
    for (const d of context.diagnostics.filter(isUnreleasedDiagnostic)) {
      add(usingAction(document, text, document.offsetAt(d.range.start), undefined, d));
    }
    // Parsing a large file takes tens of milliseconds and this runs at every move of the
    // cursor, so the rewrites are only tried where the lines mention a call they handle.
    const lines = linesOf(document, range);
    if (actions.length === 0 && USING_CALLS.test(lines)) {
      const start = document.offsetAt(range.start);
      add(usingAction(document, text, start, document.offsetAt(range.end)));
    }
    if (BLOCKING_CALLS.test(lines)) {
      add(this.#timeoutAction(document, text, range, findings.length > 0));
    }
    for (const finding of findings) {
      add(reorderAction(document, text, range, finding));
      add(suppressAction(document, text, range, finding));
    }
    return actions;
  }

  /** The findings here: the extension's, and those of Lockscope diagnostics in the context. */
  #findings(
    document: vscode.TextDocument,
    range: vscode.Range,
    context: vscode.CodeActionContext,
  ): FindingHint[] {
    const hints = asList(this.options.findingAt?.(document.uri, range));
    for (const d of context.diagnostics) {
      const code = diagnosticCode(d);
      if (d.source !== DIAGNOSTIC_SOURCE || !code) continue;
      if (!hints.some((h) => h.kind === code)) hints.push({ kind: code, line: d.range.start.line });
    }
    return hints;
  }

  #timeoutAction(
    document: vscode.TextDocument,
    text: string,
    range: vscode.Range,
    quickFix: boolean,
  ): vscode.CodeAction | undefined {
    const ms = this.options.timeoutMs ?? 1000;
    const edits = addTimeout(text, document.fileName, document.offsetAt(range.start), ms);
    const kind = quickFix ? vscode.CodeActionKind.QuickFix : vscode.CodeActionKind.RefactorRewrite;
    return edits && action(`Lockscope: add a timeout of ${ms} ms`, kind, document, edits);
  }
}

/** Calls that "Convert to using" rewrites, and those that "Add a timeout" applies to. */
const USING_CALLS = /\.\s*(?:acquire|acquireSync|read|write|runExclusive)\s*\(/;
const BLOCKING_CALLS =
  /\.\s*(?:acquire|acquireSync|read|write|wait|join|recv|send|runExclusive)\s*\(/;

/** The whole lines that a range touches. */
function linesOf(document: vscode.TextDocument, range: vscode.Range): string {
  const last = document.lineAt(range.end.line).range.end;
  return document.getText(new vscode.Range(range.start.line, 0, last.line, last.character));
}

function usingAction(
  document: vscode.TextDocument,
  text: string,
  start: number,
  end?: number,
  diagnostic?: vscode.Diagnostic,
): vscode.CodeAction | undefined {
  const edits = convertToUsing(text, document.fileName, start, end ?? start);
  if (!edits) return undefined;
  const kind = diagnostic ? vscode.CodeActionKind.QuickFix : vscode.CodeActionKind.RefactorRewrite;
  const result = action("Lockscope: declare the guard with 'using'", kind, document, edits);
  if (diagnostic) {
    result.diagnostics = [diagnostic];
    result.isPreferred = true;
  }
  return result;
}

function reorderAction(
  document: vscode.TextDocument,
  text: string,
  range: vscode.Range,
  finding: FindingHint,
): vscode.CodeAction | undefined {
  if (finding.firstLock === undefined) return undefined;
  const pos = document.offsetAt(range.start);
  const edits = reorderAcquisitions(text, document.fileName, pos, finding.firstLock);
  const title = `Lockscope: take ${finding.firstLock} first`;
  return edits && action(title, vscode.CodeActionKind.QuickFix, document, edits);
}

function suppressAction(
  document: vscode.TextDocument,
  text: string,
  range: vscode.Range,
  finding: FindingHint,
): vscode.CodeAction | undefined {
  const line = finding.line ?? range.start.line;
  if (isSuppressed(text, line, finding.kind)) return undefined;
  const edit = suppressFinding(text, line, finding.kind);
  const title = `Lockscope: ignore ${finding.kind} on this line`;
  return edit && action(title, vscode.CodeActionKind.QuickFix, document, [edit]);
}

function action(
  title: string,
  kind: vscode.CodeActionKind,
  document: vscode.TextDocument,
  edits: readonly TextEdit[],
): vscode.CodeAction {
  const result = new vscode.CodeAction(title, kind);
  result.edit = toWorkspaceEdit(document, edits);
  return result;
}

/** Offset edits as a WorkspaceEdit on the document. */
export function toWorkspaceEdit(
  document: vscode.TextDocument,
  edits: readonly TextEdit[],
): vscode.WorkspaceEdit {
  const edit = new vscode.WorkspaceEdit();
  for (const e of edits) {
    const range = new vscode.Range(document.positionAt(e.start), document.positionAt(e.end));
    edit.replace(document.uri, range, e.newText);
  }
  return edit;
}

function asList(given: FindingHint | readonly FindingHint[] | undefined): FindingHint[] {
  if (given === undefined) return [];
  return isList(given) ? [...given] : [given];
}

// Array.isArray does not narrow a union with a readonly array, hence this guard.
function isList(given: FindingHint | readonly FindingHint[]): given is readonly FindingHint[] {
  return Array.isArray(given);
}

function diagnosticCode(d: vscode.Diagnostic): string | undefined {
  const code = typeof d.code === 'object' ? d.code.value : d.code;
  return code === undefined ? undefined : String(code);
}

function isUnreleasedDiagnostic(d: vscode.Diagnostic): boolean {
  return d.source === DIAGNOSTIC_SOURCE && diagnosticCode(d) === UNRELEASED_CODE;
}

// The static check as diagnostics.

/** A quick test that a document may contain an acquisition, before parsing it. */
const MAY_ACQUIRE = /\.\s*(?:acquire|acquireSync|read|write)\s*\(/;

export interface UnreleasedDiagnosticsOptions {
  /**
   * The severity of the softer finding, a release skipped only if something throws: Warning by
   * default, like a guard not released on an explicit path. Information makes it quieter.
   */
  throwUnsafeSeverity?: vscode.DiagnosticSeverity;
}

/**
 * The unreleased-lock diagnostics of a document (source 'lockscope', code 'unreleased-lock',
 * severity Warning), without those suppressed by a `lockscope-ignore unreleased-lock` comment.
 */
export function unreleasedLockDiagnostics(
  document: vscode.TextDocument,
  options: UnreleasedDiagnosticsOptions = {},
): vscode.Diagnostic[] {
  const text = document.getText();
  if (!MAY_ACQUIRE.test(text)) return [];
  const diagnostics: vscode.Diagnostic[] = [];
  for (const found of findUnreleased(text, document.fileName)) {
    const range = new vscode.Range(
      document.positionAt(found.start),
      document.positionAt(found.end),
    );
    if (isSuppressed(text, range.start.line, UNRELEASED_CODE)) continue;
    const severity =
      found.kind === 'released-only-if-nothing-throws'
        ? (options.throwUnsafeSeverity ?? vscode.DiagnosticSeverity.Warning)
        : vscode.DiagnosticSeverity.Warning;
    const d = new vscode.Diagnostic(range, found.message, severity);
    d.source = DIAGNOSTIC_SOURCE;
    d.code = UNRELEASED_CODE;
    diagnostics.push(d);
  }
  return diagnostics;
}

/**
 * Keeps the unreleased-lock diagnostics of open TypeScript and JavaScript documents up to date,
 * checking a document again 300 ms after its last change.
 */
export function registerUnreleasedLockDiagnostics(
  context: vscode.ExtensionContext,
  options: UnreleasedDiagnosticsOptions = {},
): vscode.DiagnosticCollection {
  const collection = vscode.languages.createDiagnosticCollection('lockscope-static');
  const timers = new Map<string, NodeJS.Timeout>();
  const check = (document: vscode.TextDocument): void => {
    if (vscode.languages.match(LOCKSCOPE_LANGUAGES, document) === 0) return;
    collection.set(document.uri, unreleasedLockDiagnostics(document, options));
  };
  const later = (document: vscode.TextDocument): void => {
    const key = document.uri.toString();
    clearTimeout(timers.get(key));
    const timer = setTimeout(() => {
      timers.delete(key);
      check(document);
    }, 300);
    timers.set(key, timer);
  };
  context.subscriptions.push(
    collection,
    vscode.workspace.onDidOpenTextDocument(check),
    vscode.workspace.onDidChangeTextDocument((e) => later(e.document)),
    vscode.workspace.onDidCloseTextDocument((d) => {
      clearTimeout(timers.get(d.uri.toString()));
      collection.delete(d.uri);
    }),
    { dispose: () => timers.forEach((t) => clearTimeout(t)) },
  );
  vscode.workspace.textDocuments.forEach(check);
  return collection;
}
