/**
 * What every feature module is given: the extension's context (its subscriptions take what the
 * module registers), the window's one session, and the log.
 */
import { join } from 'node:path';
import type * as vscode from 'vscode';
import type { Session } from '../session.js';

export interface Host {
  readonly context: vscode.ExtensionContext;
  readonly session: Session;
  readonly log: (line: string) => void;
}

/** The extension's own module hooks, which run a TypeScript program in a project without tsx. */
export function tsLoader(host: Host): string {
  return join(host.context.extensionPath, 'dist', 'extension', 'ts-register.mjs');
}
