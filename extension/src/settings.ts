/**
 * The settings as VS Code has them, read through `readSettings` (contributions.ts), which applies
 * the bounds package.json declares. A value out of bounds is logged once and its default used.
 */
import * as vscode from 'vscode';
import { readSettings, SETTINGS_SECTION, type Settings } from './contributions.js';

const told = new Set<string>();

export function settings(log: (line: string) => void): Settings {
  const config = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  const { settings: read, problems } = readSettings((name) => config.get(name));
  for (const problem of problems) {
    if (!told.has(problem)) log(problem);
    told.add(problem);
  }
  return read;
}
