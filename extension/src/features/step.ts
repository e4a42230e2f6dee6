/**
 * Step-through with Lockscope in VS Code's own debugging UI: the `lockscope` debug type, served by
 * the program's own `lockscope debug-adapter` (step-plan.ts decides how to start it); "Step
 * Through with Lockscope" and its CodeLens on files that import lockscope; "Run This Flow Next" in
 * the Call Stack's menu; a schedule saved by `lockscope explore` opened in the same UI; and a
 * marker at each flow's current line, from the adapter's `lockscope/flows` event.
 */
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import {
  adapterPlan,
  flowMarks,
  parseFlowMarks,
  scheduleConfiguration,
  stepConfiguration,
  STEP_DEBUG_TYPE,
  usesLockscope,
  type FlowMark,
} from '../step-plan.js';
import { settings } from '../settings.js';
import { parseSteppedReport, steppedView, type AnalysisView } from '../shown.js';
import type { Host } from './host.js';
import { trusted } from './trust.js';

const SOURCES = [
  { language: 'typescript', scheme: 'file' },
  { language: 'javascript', scheme: 'file' },
];

export interface StepFeature {
  stepThrough(uri?: vscode.Uri): Promise<void>;
  runFlowNext(item?: number | { threadId?: number }): Promise<void>;
  openSchedule(uri?: vscode.Uri): Promise<void>;
}

/**
 * Registers step-through; `show` gets the run's analysis at each stop, for the views that follow
 * the step (the Problems panel, the graph and its time line, the tree).
 */
export function registerStep(
  host: Host,
  show: (view: AnalysisView | undefined) => void,
): StepFeature {
  const ready = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('editorCodeLens.foreground'), margin: '0 0 0 2em' },
    isWholeLine: true,
  });
  const blocked = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('editorError.foreground'), margin: '0 0 0 2em' },
    isWholeLine: true,
  });
  let marks: FlowMark[] = [];
  const paint = (): void => {
    const lines = flowMarks(marks);
    for (const editor of vscode.window.visibleTextEditors) {
      const here = lines.filter((l) => l.file === editor.document.uri.fsPath);
      const options = (isBlocked: boolean): vscode.DecorationOptions[] =>
        here
          .filter((l) => l.blocked === isBlocked)
          .map((l) => ({
            range: new vscode.Range(l.line - 1, 0, l.line - 1, 0),
            renderOptions: { after: { contentText: l.text } },
          }));
      editor.setDecorations(ready, options(false));
      editor.setDecorations(blocked, options(true));
    }
  };
  const start = async (config: vscode.DebugConfiguration): Promise<void> => {
    if (!trusted('step through a program with Lockscope')) return;
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(String(config.program)));
    await vscode.debug.startDebugging(folder, config);
  };
  host.context.subscriptions.push(
    ready,
    blocked,
    vscode.debug.registerDebugAdapterDescriptorFactory(STEP_DEBUG_TYPE, {
      createDebugAdapterDescriptor: (session) => {
        const plan = adapterPlan(
          session.configuration.program,
          settings(host.log).nodePath || 'node',
        );
        if ('problem' in plan) {
          void vscode.window.showErrorMessage(plan.problem);
          return undefined;
        }
        host.log(`stepping through ${String(session.configuration.program)}`);
        return new vscode.DebugAdapterExecutable(plan.command, plan.args, { cwd: plan.cwd });
      },
    }),
    vscode.debug.registerDebugConfigurationProvider(STEP_DEBUG_TYPE, {
      // F5 with no launch.json, or a configuration without a program: the open file.
      resolveDebugConfiguration: (_folder, config) => {
        if (config.program) return config;
        const file = vscode.window.activeTextEditor?.document.uri.fsPath;
        return file ? { ...stepConfiguration(file), ...config, program: file } : undefined;
      },
    }),
    vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => {
      if (e.session.type !== STEP_DEBUG_TYPE) return;
      if (e.event === 'lockscope/flows') {
        const parsed = parseFlowMarks(e.body);
        if (parsed.ignored) host.log(`step-through: ignored ${parsed.ignored} malformed flows`);
        marks = parsed.marks;
        paint();
      } else if (e.event === 'lockscope/report') {
        const stepped = parseSteppedReport(e.body);
        if (typeof stepped === 'string') host.log(`step-through: ignored a report: ${stepped}`);
        else show(steppedView(stepped));
      }
    }),
    vscode.debug.onDidTerminateDebugSession((s) => {
      if (s.type !== STEP_DEBUG_TYPE) return;
      marks = [];
      paint();
      // The stopped run is gone with its session: the views go back to the window's.
      show(undefined);
    }),
    vscode.window.onDidChangeVisibleTextEditors(paint),
    vscode.languages.registerCodeLensProvider(SOURCES, {
      provideCodeLenses: (document) =>
        usesLockscope(document.getText())
          ? [
              new vscode.CodeLens(new vscode.Range(0, 0, 0, 0), {
                title: '$(debug-step-over) Step Through with Lockscope',
                command: 'lockscope.stepThrough',
                arguments: [document.uri],
              }),
            ]
          : [],
    }),
  );
  return {
    stepThrough: async (uri) => {
      const file = uri?.fsPath ?? vscode.window.activeTextEditor?.document.uri.fsPath;
      if (!file) {
        void vscode.window.showInformationMessage(
          'Open a TypeScript or JavaScript file to step through.',
        );
        return;
      }
      await start(stepConfiguration(file));
    },
    runFlowNext: async (item) => {
      const session = vscode.debug.activeDebugSession;
      // The Call Stack's menu passes a thread's id, then its context; a caller may pass either.
      const threadId = typeof item === 'number' ? item : item?.threadId;
      if (session?.type !== STEP_DEBUG_TYPE || typeof threadId !== 'number') return;
      try {
        await session.customRequest('runFlowNext', { threadId });
      } catch (err) {
        void vscode.window.showWarningMessage(err instanceof Error ? err.message : String(err));
      }
    },
    openSchedule: async (uri) => {
      const file = uri?.fsPath ?? vscode.window.activeTextEditor?.document.uri.fsPath;
      if (!file) return;
      try {
        await start(scheduleConfiguration(file, readFileSync(file, 'utf8')));
      } catch (err) {
        void vscode.window.showErrorMessage(err instanceof Error ? err.message : String(err));
      }
    },
  };
}
