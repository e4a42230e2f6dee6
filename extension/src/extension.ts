/**
 * The VS Code extension's entry point: one session (a private collector and an analyzer) per
 * window, and the feature modules that run programs into it and show its findings. Each
 * `register*` function adds its feature's providers and views to the extension's subscriptions;
 * this file wires them to the session's changes and to the commands package.json declares.
 */
import * as vscode from 'vscode';
import type { RejectCode } from 'lockscope/collector';
import { PROTOCOL_VERSION } from 'lockscope/protocol';
import { COMMANDS, type CommandName } from './contributions.js';
import { registerDebug } from './features/debug.js';
import { registerAttach } from './features/attach.js';
import { registerStep } from './features/step.js';
import { openExample } from './features/examples.js';
import { registerFindings } from './features/findings.js';
import { registerGraph } from './features/graph.js';
import type { Host } from './features/host.js';
import { registerRun } from './features/run.js';
import { registerTerminal } from './features/terminal.js';
import { registerTree } from './features/tree.js';
import { Session } from './session.js';
import type { AnalysisView } from './shown.js';
import { settings } from './settings.js';

let session: Session | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('Lockscope', { log: true });
  context.subscriptions.push(output);
  const log = (line: string): void => output.info(line);
  // The session reports changes from its start; the views exist a moment later.
  let onChange = (): void => {};
  // The session keeps as many intervals as the panel plays back (the setting at start).
  session = await Session.start(
    { onChange: () => onChange(), log, onRefused: refusalNotices() },
    { analysis: { maxIntervals: settings(log).playbackIntervals } },
  );
  log(`session listening at ${session.endpoint} (protocol ${PROTOCOL_VERSION})`);
  // A step-through's stop, or an attached collector's session, is shown until the window's
  // session next changes (a program reports to it): the views show what changed last.
  let elsewhere: AnalysisView | undefined;
  const host: Host = { context, session, log, view: () => elsewhere ?? session!.analyzer };
  // Undefined gives the views back to the window's session (a detach, a step-through's end).
  const showElsewhere = (view: AnalysisView | undefined): void => {
    elsewhere = view;
    try {
      refresh();
    } catch (err) {
      // What came from elsewhere was checked where it entered; if the views still cannot show
      // it, they go back to the window's session rather than fail in the extension host.
      log(`could not show an analysis from elsewhere: ${String(err)}`);
      elsewhere = undefined;
      refresh();
    }
  };

  const findings = registerFindings(host);
  const graph = registerGraph(host);
  const tree = registerTree(host);
  const runner = registerRun(host);
  registerDebug(host);
  registerTerminal(host);
  const step = registerStep(host, showElsewhere);
  const attachment = registerAttach(host, showElsewhere);

  // A handler for every command package.json declares (the Record makes the compiler check).
  const endpoint = session.endpoint;
  const handlers: Record<CommandName, (...args: never[]) => unknown> = {
    runFile: (uri?: vscode.Uri) => runner.runFile(uri),
    openExample: () => openExample(host, runner),
    showGraph: () => graph.show(),
    stop: () => runner.stop(),
    showOutput: () => output.show(),
    stepThrough: (uri?: vscode.Uri) => step.stepThrough(uri),
    runFlowNext: (item?: number | { threadId?: number }) => step.runFlowNext(item),
    openSchedule: (uri?: vscode.Uri) => step.openSchedule(uri),
    attach: () => attachment.attach(),
    detach: () => attachment.detach(),
    showProbeInfo: () =>
      void vscode.window.showInformationMessage(
        `Lockscope speaks probe protocol ${PROTOCOL_VERSION}; the session listens at ${endpoint}.`,
      ),
  };
  for (const [name, handler] of Object.entries(handlers)) {
    context.subscriptions.push(
      vscode.commands.registerCommand(COMMANDS[name as CommandName], handler),
    );
  }

  const refresh = (): void => {
    const state = host.view().state(0);
    findings.refresh(state);
    tree.refresh();
    graph.refresh(state);
  };
  onChange = () => {
    elsewhere = undefined;
    refresh();
  };
  refresh();
}

export async function deactivate(): Promise<void> {
  await session?.close();
  session = undefined;
}

/**
 * Version skew (only an authenticated peer gets that far) is worth a notification, once per
 * reason; the session logs every refusal.
 */
function refusalNotices(): (reason: string, code: RejectCode) => void {
  const told = new Set<string>();
  return (reason, code) => {
    if (code !== 'version' || told.has(reason)) return;
    told.add(reason);
    void vscode.window.showWarningMessage(`Lockscope refused a program: ${reason}`);
  };
}
