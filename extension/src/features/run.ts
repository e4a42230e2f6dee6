/**
 * Running programs into the session: Run File, `lockscope` tasks of tasks.json (the same run,
 * through a task provider), and Stop. A new run starts a new picture unless another program is
 * still reporting.
 */
import { basename, dirname, isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import { findInProject, JS_FILE, planRun, TS_FILE } from '../launch.js';
import { settings } from '../settings.js';
import { tsLoader, type Host } from './host.js';
import { trusted } from './trust.js';

export interface Runner {
  /** Runs `uri`, or the active editor's file, into the session. */
  runFile(uri?: vscode.Uri): Promise<void>;
  /** Ends every `lockscope` task that is running. */
  stop(): void;
}

export function registerRun(host: Host): Runner {
  const executions = new Set<vscode.TaskExecution>();
  /** Files Run File has started a task for, whose start is not a new run a second time. */
  const startedHere = new Set<string>();

  const newRun = (): void => {
    if (host.session.reset()) host.log('session reset for a new run');
  };

  /** The task that runs `file` into the session. Pure: VS Code resolves tasks to list them. */
  const taskFor = (
    file: string,
    folder: vscode.WorkspaceFolder | undefined,
    definition: vscode.TaskDefinition = { type: 'lockscope', file },
  ): vscode.Task => {
    const plan = planRun({
      file,
      cwd: folder?.uri.fsPath ?? dirname(file),
      nodePath: settings(host.log).nodePath || 'node',
      sessionEnv: host.session.env(),
      tsx: findInProject(dirname(file), 'tsx'),
      esmEntry: findInProject(dirname(file), 'lockscope/esm-entry'),
      tsLoader: tsLoader(host),
      nodeOptions: process.env.NODE_OPTIONS,
    });
    return new vscode.Task(
      definition,
      folder ?? vscode.TaskScope.Workspace,
      `Run ${basename(file)}`,
      'lockscope',
      new vscode.ProcessExecution(plan.command, plan.args, { env: plan.env, cwd: plan.cwd }),
    );
  };

  /**
   * A `lockscope` task of tasks.json (`{ "type": "lockscope", "file": "src/app.ts" }`): the same
   * run as Run File, its file relative to the task's folder.
   */
  const resolveTask = (task: vscode.Task): vscode.Task | undefined => {
    const file: unknown = (task.definition as { file?: unknown }).file;
    if (typeof file !== 'string' || file === '') return undefined;
    // A task of a .code-workspace file has no folder of its own: the first folder is its base.
    const folder =
      typeof task.scope === 'object' ? task.scope : vscode.workspace.workspaceFolders?.[0];
    if (!isAbsolute(file) && !folder) {
      host.log(`task "${task.name}": ${file} is relative, and there is no folder to resolve it in`);
      return undefined;
    }
    const path = isAbsolute(file) ? file : join(folder!.uri.fsPath, file);
    return taskFor(path, folder, task.definition);
  };

  /**
   * Any `lockscope` task that starts, from Run File or from tasks.json: Stop can end it, and one
   * from tasks.json starts a new run now (its resolution may happen without a run, whenever VS
   * Code lists the tasks).
   */
  const taskStarted = (execution: vscode.TaskExecution): void => {
    const { definition } = execution.task;
    if (definition.type !== 'lockscope') return;
    executions.add(execution);
    const file = String((definition as { file?: unknown }).file);
    if (!startedHere.delete(file)) newRun();
    const run = execution.task.execution;
    if (run instanceof vscode.ProcessExecution) {
      host.log(`running ${run.process} ${run.args.join(' ')}`);
    }
  };

  host.context.subscriptions.push(
    vscode.tasks.registerTaskProvider('lockscope', { provideTasks: () => [], resolveTask }),
    vscode.tasks.onDidStartTask((e) => taskStarted(e.execution)),
    vscode.tasks.onDidEndTask((e) => executions.delete(e.execution)),
  );

  return {
    async runFile(uri) {
      if (!trusted('run a program')) return;
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
      newRun();
      const task = taskFor(file, vscode.workspace.getWorkspaceFolder(document.uri));
      task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, clear: true };
      startedHere.add(file);
      await vscode.tasks.executeTask(task);
    },
    stop() {
      if (executions.size === 0) {
        void vscode.window.showInformationMessage('Lockscope: no program is running.');
        return;
      }
      for (const execution of executions) execution.terminate();
      executions.clear();
    },
  };
}
