/**
 * "Attach to Collector...": the views show a `lockscope collect` session, on this machine or on
 * another host, as it changes; "Detach from Collector" ends that. One attachment at a time.
 */
import * as vscode from 'vscode';
import { attach, checkEndpoint, type Attachment } from '../attach.js';
import { steppedView, type AnalysisView } from '../shown.js';
import type { Host } from './host.js';

export interface AttachFeature {
  attach(): Promise<void>;
  detach(): void;
}

/** Registers attaching; `show` gets the collector's analysis each time it changes. */
export function registerAttach(
  host: Host,
  show: (view: AnalysisView | undefined) => void,
): AttachFeature {
  let current: Attachment | undefined;
  const detach = (): void => {
    if (!current) return;
    current.close();
    current = undefined;
    show(undefined);
  };
  host.context.subscriptions.push({ dispose: detach });
  return {
    detach,
    attach: async () => {
      const endpoint = await vscode.window.showInputBox({
        title: 'Attach to a Lockscope collector',
        prompt: 'The LOCKSCOPE_ENDPOINT that lockscope collect printed',
        placeHolder: 'tls://build-host:7000',
        ignoreFocusOut: true,
        validateInput: (text) => checkEndpoint(text.trim()),
      });
      if (!endpoint?.trim()) return;
      const token = await vscode.window.showInputBox({
        title: 'Attach to a Lockscope collector',
        prompt: 'The LOCKSCOPE_TOKEN that lockscope collect printed',
        password: true,
        ignoreFocusOut: true,
        validateInput: (t) => (t.trim() ? undefined : 'give the token'),
      });
      if (!token) return;
      detach();
      host.log(`attaching to ${endpoint}`);
      let attachment: Attachment;
      try {
        attachment = attach(endpoint.trim(), token.trim(), {
          onReport: (report) => show(steppedView(report)),
          onClose: (reason) => {
            if (current !== attachment) return;
            current = undefined;
            show(undefined);
            host.log(`detached from ${endpoint}: ${reason}`);
            void vscode.window.showWarningMessage(
              `Lockscope: detached from ${endpoint}: ${reason}`,
            );
          },
          log: host.log,
        });
      } catch (err) {
        void vscode.window.showErrorMessage(
          `Lockscope: cannot attach to ${endpoint}: ${err instanceof Error ? err.message : String(err)}`,
        );
        return;
      }
      current = attachment;
    },
  };
}
