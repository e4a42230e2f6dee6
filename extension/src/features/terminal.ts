/**
 * The integrated terminal's environment: with `lockscope.terminalEnvironment` on, programs
 * started in a terminal of this window report to its session.
 */
import * as vscode from 'vscode';
import { settings } from '../settings.js';
import type { Host } from './host.js';

export function registerTerminal(host: Host): void {
  const apply = (): void => {
    const collection = host.context.environmentVariableCollection;
    collection.clear();
    if (!settings(host.log).terminalEnvironment) return;
    for (const [k, v] of Object.entries(host.session.env())) collection.replace(k, v);
    collection.description = 'Lockscope: programs that use lockscope report to this window';
  };
  host.context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('lockscope.terminalEnvironment')) apply();
    }),
  );
  apply();
}
