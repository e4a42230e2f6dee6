/**
 * The VS Code extension's entry point. Issue 5 builds the sessions, launching, diagnostics and
 * code actions; this first version registers one command that shows which probe and protocol the
 * extension speaks, so that packaging and activation can be exercised from the start.
 */
import * as vscode from 'vscode';
import { PROTOCOL_VERSION } from '../../runtime-probe/src/protocol.js';

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('lockscope.showProbeInfo', () => {
      void vscode.window.showInformationMessage(
        `Lockscope speaks probe protocol ${PROTOCOL_VERSION}.`,
      );
    }),
  );
}

export function deactivate(): void {}
