/**
 * Attaching the editor to a `lockscope collect` session, local or on another host: the
 * connection (TLS keyed by the token for `tls://` endpoints), the attach line, and the collector's
 * `report` lines, each checked where it enters as a step-through's stop is (shown.ts). Knows
 * nothing of VS Code, so it is tested on plain Node.
 */
import {
  attachLine,
  connectCollector,
  isHandshakeFailure,
  handshakeFailedMessage,
  LineDecoder,
  MAX_LINE,
  remoteOf,
} from 'lockscope/collector';
import { parseSteppedReport, type SteppedReport } from './shown.js';

/** How long a collector has to send its first report after the attach line. */
export const ANSWER_MS = 10_000;

export interface AttachHandlers {
  /** The collector's analysis, as it changes. */
  onReport(report: SteppedReport): void;
  /** The attachment ended: why, in words for the user. */
  onClose(reason: string): void;
  /** A line for the log. */
  log(line: string): void;
}

export interface Attachment {
  readonly endpoint: string;
  close(): void;
}

/** What is wrong with an endpoint a user typed, or undefined when it can be tried. */
export function checkEndpoint(endpoint: string): string | undefined {
  if (endpoint.trim() === '') return 'give the endpoint lockscope collect printed';
  const remote = remoteOf(endpoint);
  return typeof remote === 'string' ? remote : undefined;
}

export function attach(
  endpoint: string,
  token: string,
  handlers: AttachHandlers,
  options: { answerMs?: number } = {},
): Attachment {
  const answerMs = options.answerMs ?? ANSWER_MS;
  const socket = connectCollector(endpoint, token);
  let closed = false;
  let reason = 'the collector closed the connection';
  const decoder = new LineDecoder(MAX_LINE);
  socket.setEncoding('utf8');
  socket.write(attachLine(token));
  // A host that does not answer would otherwise leave the user waiting for the system's own
  // timeout, minutes later: the collector sends its report at once when a viewer attaches.
  const noAnswer = setTimeout(() => {
    reason = `no answer from ${endpoint} within ${answerMs / 1000} s`;
    socket.destroy();
  }, answerMs);
  socket.on('data', (chunk: string) => {
    let lines: string[];
    try {
      lines = decoder.push(chunk);
    } catch {
      reason = 'the collector sent a line longer than any report';
      socket.destroy();
      return;
    }
    for (const line of lines) {
      let m: { t?: unknown; message?: unknown } | null;
      try {
        m = JSON.parse(line) as { t?: unknown; message?: unknown } | null;
      } catch {
        handlers.log('attach: ignored a line that is not JSON');
        continue;
      }
      if (m?.t === 'error') {
        reason = `the collector refused: ${typeof m.message === 'string' ? m.message : 'no reason given'}`;
      } else if (m?.t === 'report') {
        clearTimeout(noAnswer);
        const report = parseSteppedReport(m);
        if (typeof report === 'string') handlers.log(`attach: ignored a report: ${report}`);
        else handlers.onReport(report);
      }
    }
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    reason = isHandshakeFailure(endpoint, err) ? handshakeFailedMessage(endpoint) : err.message;
  });
  socket.on('close', () => {
    clearTimeout(noAnswer);
    if (!closed) handlers.onClose(reason);
    closed = true;
  });
  return {
    endpoint,
    close: () => {
      closed = true;
      socket.destroy();
    },
  };
}
