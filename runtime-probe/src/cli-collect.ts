/**
 * `lockscope collect`: a session that programs started elsewhere report to, with the same
 * analysis and outputs as `lockscope run`. It prints the environment to set for them, tells of
 * each process and finding as it comes, and at Ctrl+C (SIGINT or SIGTERM) prints the report and
 * exits with the report's status. With `--listen HOST:PORT` it also accepts programs on other
 * hosts over TLS keyed by the session's token (collector-remote.ts); without, only this user on
 * this machine can reach it.
 */
import { hostname } from 'node:os';
import { Analyzer, type AnalysisOptions } from './analysis/engine.js';
import { refusalLog, startCollector, type Connection } from './collector.js';
import { isWildcard, parseHostPort, remoteEndpoint, type HostPort } from './remote.js';

export const COLLECT_USAGE = `  lockscope collect [--listen HOST:PORT] [options]
      Collects from programs started elsewhere (it prints the environment to give them) until
      Ctrl+C, then prints the report. --listen also accepts programs on other hosts, over TLS
      keyed by the session's token; without it only this user on this machine can connect.`;

export const COLLECT_OPTIONS = {
  listen: { type: 'string' },
} as const;

export interface CollectCli {
  analysis: Partial<AnalysisOptions>;
  finish(analyzer: Analyzer, failed: string | undefined): number;
  usage(message: string): Error;
  refusal(message: string): Error;
}

/** The host name other hosts reach a listener by: this machine's name for a wildcard address. */
export function reachableHost(at: HostPort): string {
  return isWildcard(at.host) ? hostname() : at.host;
}

export async function collectCommand(listen: string | undefined, cli: CollectCli): Promise<number> {
  let at: HostPort | undefined;
  if (listen !== undefined) {
    const parsed = parseHostPort(listen, 'listen');
    if (typeof parsed === 'string') throw cli.usage(`--listen: ${parsed}`);
    at = parsed;
  }
  const say = (line: string): void => void process.stderr.write(`lockscope: ${line}\n`);
  const analyzer = new Analyzer(cli.analysis);
  const logRefusal = refusalLog(say);
  const viewers = new Viewers(analyzer);
  // A process says hello once per stream (its I/O thread and each reconnection): told once. Its
  // pid alone does not name it: processes on two hosts may share one.
  const told = new Set<string>();
  analyzer.onFinding = (f) => say(`found: ${f.severity} ${f.kind}: ${f.message}`);
  let collector;
  try {
    collector = await startCollector(
      {
        onMessage: (conn, m) => {
          analyzer.accept(conn, m);
          viewers.changed();
          if (m.t === 'hello' && !told.has(`${m.pid}@${m.ts}`)) {
            told.add(`${m.pid}@${m.ts}`);
            say(`process ${m.pid} (${m.title}) connected`);
          }
        },
        onReject: (_conn, reason, code) => logRefusal(reason, code),
        onEnd: (conn) => {
          if (conn.viewer) viewers.delete(conn);
          else analyzer.endStream(conn);
          viewers.changed();
        },
        onAttach: (conn) => {
          say('a viewer attached');
          viewers.add(conn);
        },
      },
      {},
      at ? { listen: at } : {},
    );
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const cannot = ['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN'];
    if (at && code !== undefined && cannot.includes(code)) {
      throw cli.refusal(`cannot listen on ${listen}: ${(err as Error).message}`);
    }
    throw err;
  }
  const env = at ? collector.remoteEnv(reachableHost(at)) : collector.env();
  say(
    `collecting${collector.remote ? ` at ${remoteEndpoint(collector.remote)}` : ''}. Run programs with:\n` +
      Object.entries({ ...env, NODE_OPTIONS: '--import lockscope/register' })
        .map(([k, v]) => `  ${k}=${v}`)
        .join('\n') +
      '\nCtrl+C ends the session and prints the report.',
  );
  // Any of these ends the session; a second one while the report is written is ignored.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  await new Promise<void>((resolve) => {
    for (const signal of signals) process.on(signal, resolve);
  });
  for (const signal of signals) process.on(signal, () => {});
  viewers.close();
  await collector.close();
  return cli.finish(analyzer, undefined);
}

/** The time line's most recent intervals a viewer is sent. */
const VIEWER_INTERVALS = 5_000;
/** The shortest time between two reports to the viewers. */
const VIEWER_MS = 250;
/**
 * A viewer this far behind is sent nothing more until it has read what it has: then it gets the
 * newest report, which replaces those it missed.
 */
const VIEWER_BACKLOG = 16 * 1024 * 1024;

/**
 * The editors attached to the session: each is sent the analysis (report and live state) when it
 * attaches and, at most every VIEWER_MS, after it changed.
 */
class Viewers {
  readonly #all = new Set<Connection>();
  /** Viewers that missed a report for being behind, waiting for their socket to drain. */
  readonly #behind = new Set<Connection>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #dirty = false;
  #closed = false;

  constructor(private readonly analyzer: Analyzer) {}

  add(conn: Connection): void {
    this.#all.add(conn);
    this.#send([conn]);
  }

  delete(conn: Connection): void {
    this.#all.delete(conn);
    this.#behind.delete(conn);
  }

  changed(): void {
    if (this.#all.size === 0 || this.#closed) return;
    this.#dirty = true;
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      if (!this.#dirty || this.#closed) return;
      this.#dirty = false;
      this.#send([...this.#all]);
    }, VIEWER_MS);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  #send(to: Connection[]): void {
    const ready: Connection[] = [];
    for (const c of to) {
      if (c.socket.writableLength < VIEWER_BACKLOG) {
        ready.push(c);
      } else if (!this.#behind.has(c)) {
        this.#behind.add(c);
        c.socket.once('drain', () => {
          this.#behind.delete(c);
          if (this.#all.has(c) && !this.#closed) this.#send([c]);
        });
      }
    }
    if (ready.length === 0) return;
    const line =
      JSON.stringify({
        t: 'report',
        step: this.analyzer.events,
        report: this.analyzer.report({ maxIntervals: VIEWER_INTERVALS }),
        state: this.analyzer.state(),
      }) + '\n';
    for (const c of ready) c.socket.write(line);
  }
}
