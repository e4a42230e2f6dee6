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
import { startCollector } from './collector.js';
import { parseHostPort, type HostPort } from './remote.js';

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
  return at.host === '0.0.0.0' || at.host === '::' ? hostname() : at.host;
}

export async function collectCommand(listen: string | undefined, cli: CollectCli): Promise<number> {
  let at: HostPort | undefined;
  if (listen !== undefined) {
    const parsed = parseHostPort(listen);
    if (typeof parsed === 'string') throw cli.usage(`--listen: ${parsed}`);
    at = parsed;
  }
  const say = (line: string): void => void process.stderr.write(`lockscope: ${line}\n`);
  const analyzer = new Analyzer(cli.analysis);
  // A process says hello once per stream (its I/O thread and each reconnection): told once.
  const told = new Set<number>();
  analyzer.onFinding = (f) => say(`found: ${f.severity} ${f.kind}: ${f.message}`);
  let collector;
  try {
    collector = await startCollector(
      {
        onMessage: (conn, m) => {
          analyzer.accept(conn, m);
          if (m.t === 'hello' && !told.has(m.pid)) {
            told.add(m.pid);
            say(`process ${m.pid} (${m.title}) connected`);
          }
        },
        onReject: (_conn, reason) => say(`refused a connection: ${reason}`),
        onEnd: (conn) => analyzer.endStream(conn),
      },
      {},
      at ? { listen: at } : {},
    );
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (at && (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL')) {
      throw cli.refusal(`cannot listen on ${listen}: ${(err as Error).message}`);
    }
    throw err;
  }
  const env = at ? collector.remoteEnv(reachableHost(at)) : collector.env();
  say(
    `collecting${collector.remote ? ` at ${collector.remote}` : ''}. Run programs with:\n` +
      Object.entries({ ...env, NODE_OPTIONS: '--import lockscope/register' })
        .map(([k, v]) => `  ${k}=${v}`)
        .join('\n') +
      '\nCtrl+C ends the session and prints the report.',
  );
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
  await collector.close();
  return cli.finish(analyzer, undefined);
}
