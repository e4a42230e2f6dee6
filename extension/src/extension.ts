/**
 * The VS Code extension's entry point: one session (a private collector and an analyzer) per
 * window, the commands that run programs into it, and everything that shows its findings in the
 * editor (diagnostics, decorations, hovers, CodeLens, a tree view, the status bar, the graph
 * panel). The logic lives in pure modules (session, presenter, launch); this file is the glue.
 */
import { cp, mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import type { Finding, Report } from 'lockscope/report';
import type { RejectCode } from 'lockscope/collector';
import { PROTOCOL_VERSION } from 'lockscope/protocol';
import {
  registerCodeActions,
  registerUnreleasedLockDiagnostics,
  type FindingHint,
} from './codeactions/provider.js';
import { isSuppressed } from './codeactions/suppress.js';
import { COMMANDS, type CommandName } from './contributions.js';
import { GraphPanel } from './graph-panel.js';
import { findInProject, JS_FILE, planRun, TS_FILE, withLockscope } from './launch.js';
import {
  diagnosticsFor,
  hoverMarkdown,
  lensText,
  siteKeyPlace,
  statusText,
  type DiagnosticSpec,
} from './presenter.js';
import { Session } from './session.js';
import { settings } from './settings.js';
import { SessionTree } from './tree.js';

const SEVERITY: Record<Finding['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

let controller: Controller | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  controller = new Controller(context);
  await controller.start();
}

export async function deactivate(): Promise<void> {
  await controller?.dispose();
  controller = undefined;
}

class Controller {
  readonly #output = vscode.window.createOutputChannel('Lockscope', { log: true });
  readonly #diagnostics = vscode.languages.createDiagnosticCollection('lockscope');
  readonly #status = vscode.window.createStatusBarItem(
    'lockscope.status',
    vscode.StatusBarAlignment.Left,
    50,
  );
  readonly #decoration = vscode.window.createTextEditorDecorationType({
    after: { margin: '0 0 0 2em', color: new vscode.ThemeColor('editorError.foreground') },
    isWholeLine: true,
  });
  readonly #lensesChanged = new vscode.EventEmitter<void>();
  readonly #executions = new Set<vscode.TaskExecution>();
  /** Files Run File has started a task for, whose start is not a new run a second time. */
  readonly #startedHere = new Set<string>();
  #session: Session | undefined;
  #specs = new Map<string, DiagnosticSpec[]>();
  /** The findings the diagnostics were last made from. */
  #shown: { list: readonly Finding[] | undefined; count: number } = { list: undefined, count: 0 };
  #report: Report | undefined;
  #tree: SessionTree | undefined;
  readonly #refusals = new Set<string>();

  constructor(private readonly context: vscode.ExtensionContext) {}

  get #loader(): string {
    return join(this.context.extensionPath, 'dist', 'extension', 'ts-register.mjs');
  }

  #log = (line: string): void => {
    this.#output.info(line);
  };

  async start(): Promise<void> {
    const { subscriptions } = this.context;
    // The session keeps as many intervals as the panel plays back (the setting at start).
    this.#session = await Session.start(
      {
        onChange: () => this.#refresh(),
        log: this.#log,
        onRefused: (reason, code) => this.#refused(reason, code),
      },
      { analysis: { maxIntervals: settings(this.#log).playbackIntervals } },
    );
    this.#log(`session listening at ${this.#session.endpoint} (protocol ${PROTOCOL_VERSION})`);
    this.#tree = new SessionTree(() => this.#session!.analyzer.state());
    subscriptions.push(
      this.#output,
      this.#diagnostics,
      this.#status,
      this.#decoration,
      this.#lensesChanged,
      vscode.window.registerTreeDataProvider('lockscope.session', this.#tree),
      ...this.#commands(),
      vscode.tasks.registerTaskProvider('lockscope', {
        provideTasks: () => [],
        resolveTask: (task) => this.#resolveTask(task),
      }),
      vscode.tasks.onDidStartTask((e) => this.#taskStarted(e.execution)),
      vscode.tasks.onDidEndTask((e) => this.#executions.delete(e.execution)),
      vscode.window.onDidChangeVisibleTextEditors(() => this.#decorate()),
      vscode.languages.registerHoverProvider(SOURCES, {
        provideHover: (d, p) => this.#hover(d, p),
      }),
      vscode.languages.registerCodeLensProvider(SOURCES, {
        onDidChangeCodeLenses: this.#lensesChanged.event,
        provideCodeLenses: (d) => this.#lenses(d),
      }),
      vscode.debug.registerDebugConfigurationProvider('node', this.#debugProvider()),
      vscode.debug.registerDebugConfigurationProvider('pwa-node', this.#debugProvider()),
      registerCodeActions({
        findingAt: (uri, range) => this.#findingsAt(uri, range),
      }),
      // A new or removed `lockscope-ignore` comment shows at once; other documents (the output
      // channel among them, on every log line) do not matter.
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this.#specs.has(e.document.uri.fsPath)) this.#applyDiagnostics();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('lockscope.terminalEnvironment')) this.#terminalEnv();
      }),
    );
    registerUnreleasedLockDiagnostics(this.context);
    this.#status.name = 'Lockscope';
    this.#status.command = COMMANDS.showGraph;
    this.#status.tooltip = 'Lockscope: show the wait-for graph';
    this.#terminalEnv();
    this.#refresh();
    this.#status.show();
  }

  async dispose(): Promise<void> {
    await this.#session?.close();
  }

  /** A handler for every command package.json declares (the Record makes the compiler check). */
  #commands(): vscode.Disposable[] {
    const handlers: Record<CommandName, (...args: never[]) => unknown> = {
      runFile: (uri?: vscode.Uri) => this.#runFile(uri),
      openExample: () => this.#openExample(),
      showGraph: () => this.#showGraph(),
      stop: () => this.#stop(),
      showOutput: () => this.#output.show(),
      showProbeInfo: () =>
        void vscode.window.showInformationMessage(
          `Lockscope speaks probe protocol ${PROTOCOL_VERSION}; the session listens at ` +
            `${this.#session?.endpoint ?? '(not started)'}.`,
        ),
    };
    return Object.entries(handlers).map(([name, handler]) =>
      vscode.commands.registerCommand(COMMANDS[name as CommandName], handler),
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Showing the session

  #refresh(): void {
    const session = this.#session;
    if (!session) return;
    const findings = session.analyzer.findings;
    this.#report = undefined;
    // Findings only grow (a reset brings a new list): the diagnostics change only with them.
    if (findings !== this.#shown.list || findings.length !== this.#shown.count) {
      this.#shown = { list: findings, count: findings.length };
      this.#specs = diagnosticsFor(findings);
      this.#applyDiagnostics();
    }
    const state = session.analyzer.state(0);
    this.#status.text = statusText(state.processes.length, findings);
    this.#tree?.refresh();
    this.#lensesChanged.fire();
    // Live while a program still reports; once all have ended the panel says so.
    const live =
      state.processes.length === 0 || state.processes.some((p) => p.status === 'running');
    if (GraphPanel.current) GraphPanel.current.update(this.#currentReport(), live);
  }

  /** Shows the findings' diagnostics, leaving out those a `lockscope-ignore` comment suppresses. */
  #applyDiagnostics(): void {
    this.#diagnostics.clear();
    const open = new Map(vscode.workspace.textDocuments.map((d) => [d.uri.fsPath, d]));
    for (const [file, specs] of this.#specs) {
      const text = open.get(file)?.getText();
      const shown =
        text === undefined ? specs : specs.filter((s) => !isSuppressed(text, s.line, s.code));
      this.#diagnostics.set(vscode.Uri.file(file), shown.map(toDiagnostic));
    }
    this.#decorate();
  }

  /** The findings shown at a range, for the code actions (suppress, reorder). */
  #findingsAt(uri: vscode.Uri, range: vscode.Range): FindingHint[] {
    const specs = this.#specs.get(uri.fsPath) ?? [];
    const findings = this.#session?.analyzer.findings ?? [];
    const hints: FindingHint[] = [];
    for (const s of specs) {
      if (s.line < range.start.line || s.line > range.end.line) continue;
      const f = findings.find((x) => x.id === s.findingId);
      if (!f) continue;
      // An inversion's fix names the order to keep: the first lock in it goes first.
      const first =
        f.kind === 'lock-order-inversion'
          ? [...f.resources].sort((a, b) => (a.name < b.name ? -1 : 1))[0]?.name
          : undefined;
      hints.push({ kind: f.kind, line: s.line, ...(first ? { firstLock: first } : {}) });
    }
    return hints;
  }

  #currentReport(): Report {
    // The panel keeps only the most recent intervals for playback; building more is waste.
    const intervals = settings(this.#log).playbackIntervals;
    return (this.#report ??= this.#session!.analyzer.report({ maxIntervals: intervals }));
  }

  #decorate(): void {
    for (const editor of vscode.window.visibleTextEditors) {
      const specs = this.#specs.get(editor.document.uri.fsPath) ?? [];
      editor.setDecorations(
        this.#decoration,
        specs.map((s) => ({
          range: new vscode.Range(s.line, 0, s.line, 0),
          renderOptions: { after: { contentText: s.inline } },
        })),
      );
    }
  }

  #hover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const specs = this.#specs.get(document.uri.fsPath)?.filter((s) => s.line === position.line);
    if (!specs?.length || !this.#session) return undefined;
    const ids = new Set(specs.map((s) => s.findingId));
    const findings = this.#session.analyzer.findings.filter((f) => ids.has(f.id));
    return new vscode.Hover(findings.map((f) => new vscode.MarkdownString(hoverMarkdown(f))));
  }

  #lenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!this.#session) return [];
    const stats = this.#session.analyzer.siteStats();
    const lenses: vscode.CodeLens[] = [];
    for (const s of stats) {
      const at = siteKeyPlace(s.key);
      if (!at || at.file !== document.uri.fsPath) continue;
      lenses.push(
        new vscode.CodeLens(new vscode.Range(at.line, 0, at.line, 0), {
          title: lensText(s),
          command: 'lockscope.showGraph',
          tooltip: `${s.name}: contention at this acquisition`,
        }),
      );
    }
    return lenses;
  }

  #refused(reason: string, code: RejectCode): void {
    // Version skew (only an authenticated peer gets that far) is worth a notification, once per
    // reason; other refusals go to the log.
    if (code === 'version' && !this.#refusals.has(reason)) {
      this.#refusals.add(reason);
      void vscode.window.showWarningMessage(`Lockscope refused a program: ${reason}`);
    }
  }

  #showGraph(): void {
    if (!this.#session) return;
    GraphPanel.show(this.context.extensionUri, this.#currentReport(), this.#log);
  }

  // ---------------------------------------------------------------------------------------------
  // Running programs

  #trusted(what: string): boolean {
    if (vscode.workspace.isTrusted) return true;
    void vscode.window
      .showWarningMessage(
        `Lockscope cannot ${what} in Restricted Mode: it would run code from this workspace. ` +
          'Trust the workspace to enable it.',
        'Manage Workspace Trust',
      )
      .then((choice) => {
        if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
      });
    return false;
  }

  async #runFile(uri: vscode.Uri | undefined): Promise<void> {
    if (!this.#trusted('run a program')) return;
    const document = uri
      ? await vscode.workspace.openTextDocument(uri)
      : vscode.window.activeTextEditor?.document;
    if (!document) {
      void vscode.window.showErrorMessage(
        'Lockscope: open a TypeScript or JavaScript file to run.',
      );
      return;
    }
    const file = document.uri.fsPath;
    if (!TS_FILE.test(file) && !JS_FILE.test(file)) {
      void vscode.window.showErrorMessage(
        `Lockscope runs TypeScript and JavaScript files; ${basename(file)} is neither.`,
      );
      return;
    }
    if (document.isDirty) await document.save();
    // A new run starts a new picture (before the program can connect), unless another program
    // is still reporting; the task's start is then not a new run a second time.
    this.#newRun();
    const task = this.#taskFor(file, vscode.workspace.getWorkspaceFolder(document.uri));
    task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, clear: true };
    this.#startedHere.add(file);
    await vscode.tasks.executeTask(task);
  }

  #newRun(): void {
    if (this.#session?.reset()) this.#log('session reset for a new run');
  }

  /**
   * Any `lockscope` task that starts, from Run File or from tasks.json: Stop can end it, and one
   * from tasks.json starts a new run now (its resolution may happen without a run, whenever VS
   * Code lists the tasks).
   */
  #taskStarted(execution: vscode.TaskExecution): void {
    const { definition } = execution.task;
    if (definition.type !== 'lockscope') return;
    this.#executions.add(execution);
    const file = String((definition as { file?: unknown }).file);
    if (!this.#startedHere.delete(file)) this.#newRun();
    const run = execution.task.execution;
    if (run instanceof vscode.ProcessExecution) {
      this.#log(`running ${run.process} ${run.args.join(' ')}`);
    }
  }

  /**
   * A `lockscope` task of tasks.json (`{ "type": "lockscope", "file": "src/app.ts" }`): the same
   * run as Run File, its file relative to the task's folder.
   */
  #resolveTask(task: vscode.Task): vscode.Task | undefined {
    const file: unknown = (task.definition as { file?: unknown }).file;
    if (typeof file !== 'string' || file === '') return undefined;
    // A task of a .code-workspace file has no folder of its own: the first folder is its base.
    const folder =
      typeof task.scope === 'object' ? task.scope : vscode.workspace.workspaceFolders?.[0];
    if (!isAbsolute(file) && !folder) {
      this.#log(
        `task "${task.name}": ${file} is relative, and there is no folder to resolve it in`,
      );
      return undefined;
    }
    const path = isAbsolute(file) ? file : join(folder!.uri.fsPath, file);
    return this.#taskFor(path, folder, task.definition);
  }

  /** The task that runs `file` into the session. Pure: VS Code resolves tasks to list them. */
  #taskFor(
    file: string,
    folder: vscode.WorkspaceFolder | undefined,
    definition: vscode.TaskDefinition = { type: 'lockscope', file },
  ): vscode.Task {
    const plan = planRun({
      file,
      cwd: folder?.uri.fsPath ?? dirname(file),
      nodePath: settings(this.#log).nodePath || 'node',
      sessionEnv: this.#session!.env(),
      tsx: findInProject(dirname(file), 'tsx'),
      esmEntry: findInProject(dirname(file), 'lockscope/esm-entry'),
      tsLoader: this.#loader,
    });
    return new vscode.Task(
      definition,
      folder ?? vscode.TaskScope.Workspace,
      `Run ${basename(file)}`,
      'lockscope',
      new vscode.ProcessExecution(plan.command, plan.args, { env: plan.env, cwd: plan.cwd }),
    );
  }

  #stop(): void {
    if (this.#executions.size === 0) {
      void vscode.window.showInformationMessage('Lockscope: no program is running.');
      return;
    }
    for (const execution of this.#executions) execution.terminate();
    this.#executions.clear();
  }

  async #openExample(): Promise<void> {
    // Asynchronous file work throughout: the extension host runs every extension's code.
    const source = join(this.context.extensionPath, 'examples');
    const files = (await readdir(source).catch(() => [] as string[]))
      .filter((f) => f.endsWith('.ts'))
      .sort();
    if (files.length === 0) {
      void vscode.window.showErrorMessage('Lockscope: this installation has no examples.');
      return;
    }
    const items = await Promise.all(
      files.map(async (f) => ({ label: f, detail: await summary(join(source, f)) })),
    );
    const picked = await vscode.window.showQuickPick(items, {
      placeHolder: 'Open a Lockscope example',
      matchOnDetail: true,
    });
    if (!picked) return;
    // A folder of its own, with the probe beside it, so the example runs as it is.
    const folder = await mkdtemp(join(tmpdir(), 'lockscope-examples-'));
    await cp(source, folder, { recursive: true });
    const probe = join(this.context.extensionPath, 'runtime-probe');
    const target = join(folder, 'node_modules', 'lockscope');
    await mkdir(target, { recursive: true });
    await cp(join(probe, 'package.json'), join(target, 'package.json'));
    await cp(join(probe, 'dist'), join(target, 'dist'), { recursive: true });
    const document = await vscode.workspace.openTextDocument(join(folder, picked.label));
    await vscode.window.showTextDocument(document);
    this.#log(`opened example ${picked.label} in ${folder}`);
    const run = await vscode.window.showInformationMessage(
      `Example ${picked.label} is ready in ${folder}.`,
      'Run with Lockscope',
    );
    if (run) await this.#runFile(document.uri);
  }

  #debugProvider(): vscode.DebugConfigurationProvider {
    return {
      resolveDebugConfiguration: (_folder, config) => {
        if ((config as { lockscope?: unknown }).lockscope !== true) return config;
        if (!this.#session || !this.#trusted('debug with Lockscope')) return undefined;
        this.#log(`debugging ${String(config.program)} with Lockscope`);
        return withLockscope(
          config,
          this.#session.env(),
          this.#loader,
        ) as vscode.DebugConfiguration;
      },
    };
  }

  /** With the setting on, programs started in the integrated terminal report to the session. */
  #terminalEnv(): void {
    const collection = this.context.environmentVariableCollection;
    collection.clear();
    if (!settings(this.#log).terminalEnvironment || !this.#session) return;
    for (const [k, v] of Object.entries(this.#session.env())) collection.replace(k, v);
    collection.description = 'Lockscope: programs that use lockscope report to this window';
  }
}

const SOURCES: vscode.DocumentSelector = [
  { language: 'typescript' },
  { language: 'javascript' },
  { language: 'typescriptreact' },
  { language: 'javascriptreact' },
];

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

/** The first sentence of an example's header comment. */
async function summary(file: string): Promise<string> {
  const text = await readFile(file, 'utf8');
  const m = /\/\*\*\s*\n\s*\*\s*(.+)/.exec(text);
  return m?.[1]?.trim() ?? '';
}
