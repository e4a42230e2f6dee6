/**
 * What every feature module is given: the extension's context (its subscriptions take what the
 * module registers), the window's one session, what the views show, and the log.
 */
import { join } from 'node:path';
import type * as vscode from 'vscode';
import type { Session } from '../session.js';
import type { AnalysisView } from '../shown.js';

export interface Host {
  readonly context: vscode.ExtensionContext;
  readonly session: Session;
  /**
   * What the views show: the session's analysis, or what happened last elsewhere (the run a
   * step-through stopped at, an attached collector's session). Read it each time, never keep it.
   */
  view(): AnalysisView;
  readonly log: (line: string) => void;
}

/** The extension's own module hooks, which run a TypeScript program in a project without tsx. */
export function tsLoader(host: Host): string {
  return join(host.context.extensionPath, 'dist', 'extension', 'ts-register.mjs');
}
