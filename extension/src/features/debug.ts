/**
 * Debugging with Lockscope: a Node launch configuration with `"lockscope": true` gets the
 * session's environment and, for TypeScript without tsx, the extension's loader (launch.ts).
 */
import * as vscode from 'vscode';
import { withLockscope } from '../launch.js';
import { tsLoader, type Host } from './host.js';
import { trusted } from './trust.js';

export function registerDebug(host: Host): void {
  const provider: vscode.DebugConfigurationProvider = {
    resolveDebugConfiguration: (_folder, config) => {
      if ((config as { lockscope?: unknown }).lockscope !== true) return config;
      if (!trusted('debug with Lockscope')) return undefined;
      host.log(`debugging ${String(config.program)} with Lockscope`);
      return withLockscope(config, host.session.env(), tsLoader(host)) as vscode.DebugConfiguration;
    },
  };
  host.context.subscriptions.push(
    vscode.debug.registerDebugConfigurationProvider('node', provider),
    vscode.debug.registerDebugConfigurationProvider('pwa-node', provider),
  );
}
