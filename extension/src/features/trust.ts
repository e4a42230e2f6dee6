/**
 * Workspace trust: running or debugging a program runs the workspace's code, which Restricted
 * Mode forbids. The user is told why nothing happened and where to change it.
 */
import * as vscode from 'vscode';

/** Whether the workspace is trusted; if not, says that Lockscope cannot `what` and why. */
export function trusted(what: string): boolean {
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
