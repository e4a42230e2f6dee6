/**
 * Runs inside VS Code's extension host, started by run.ts through @vscode/test-electron: the
 * extension from this repository (its development folder) activates and registers every command
 * its manifest contributes, and its probe information command runs.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';

const ID = 'lockscope.lockscope-vscode';

export async function run(): Promise<void> {
  const extension = vscode.extensions.getExtension(ID);
  assert.ok(extension, `${ID} is not loaded`);
  await extension.activate();
  assert.equal(extension.isActive, true);

  const manifest = extension.packageJSON as { contributes?: { commands?: { command: string }[] } };
  const contributed = (manifest.contributes?.commands ?? []).map((c) => c.command);
  const registered = new Set(await vscode.commands.getCommands(true));
  const missing = contributed.filter((id) => !registered.has(id));
  assert.deepEqual(missing, [], 'commands contributed but not registered');

  await vscode.commands.executeCommand('lockscope.showProbeInfo');
  console.log(`vscode-electron: ${ID} active, ${contributed.length} commands registered`);
}
