/**
 * "Open Example": the extension's example programs, copied into a folder of their own with the
 * probe beside them so that each runs as it is. Asynchronous file work throughout: the extension
 * host runs every extension's code.
 */
import { cp, mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { Host } from './host.js';
import type { Runner } from './run.js';

export async function openExample(host: Host, runner: Runner): Promise<void> {
  const { extensionPath } = host.context;
  const source = join(extensionPath, 'examples');
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
  const folder = await mkdtemp(join(tmpdir(), 'lockscope-examples-'));
  await cp(source, folder, { recursive: true });
  const probe = join(extensionPath, 'runtime-probe');
  const target = join(folder, 'node_modules', 'lockscope');
  await mkdir(target, { recursive: true });
  await cp(join(probe, 'package.json'), join(target, 'package.json'));
  await cp(join(probe, 'dist'), join(target, 'dist'), { recursive: true });
  const document = await vscode.workspace.openTextDocument(join(folder, picked.label));
  await vscode.window.showTextDocument(document);
  host.log(`opened example ${picked.label} in ${folder}`);
  const run = await vscode.window.showInformationMessage(
    `Example ${picked.label} is ready in ${folder}.`,
    'Run with Lockscope',
  );
  if (run) await runner.runFile(document.uri);
}

/** The first sentence of an example's header comment. */
async function summary(file: string): Promise<string> {
  const text = await readFile(file, 'utf8');
  const m = /\/\*\*\s*\n\s*\*\s*(.+)/.exec(text);
  return m?.[1]?.trim() ?? '';
}
