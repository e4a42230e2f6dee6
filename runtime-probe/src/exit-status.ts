/**
 * The exit statuses of every `lockscope` command, in one table that the usage text and the README
 * show, and the decision between them. Pure: tested on plain data.
 */
import type { Finding, Report } from './analysis/types.js';

export const EXIT = {
  /** Nothing that fails the run. */
  clean: 0,
  /** A finding that fails the run (`--fail-on`), or the program exited non-zero or by a signal. */
  failed: 1,
  /** A usage error, or a program or file that could not be started or read. */
  usage: 2,
  /** The analysis could not judge: events were lost, so what it would report may be wrong. */
  inconclusive: 3,
} as const;

export const EXIT_TABLE = `Exit status:
  0  clean: no finding that fails the run
  1  a finding that fails the run (--fail-on), or the program exited non-zero or was killed by
     a signal (printed with what the status means)
  2  usage error, or the program (or trace file) could not be started or read
  3  inconclusive: the analysis could not judge (events were lost, a connection was refused,
     or a finding is uncertain because flows could not be told apart exactly; said why)
A run that lockscope stops (a deadlock, --timeout, or SIGINT, SIGTERM or SIGHUP sent to
lockscope) exits with the status of what it observed until then, never 128 + the signal.`;

export interface Verdict {
  status: number;
  /** Why the run is inconclusive, when it is. */
  inconclusive?: string;
}

/**
 * The exit status of a report. A program that failed is a failure whatever was observed; lost
 * events make a finding that would fail the run inconclusive instead, because the events that
 * are missing could explain it, and make a clean report inconclusive too. Only exact findings
 * fail a run; uncertain ones make it inconclusive. A report without
 * findings whose flows were still blocked when the program ended by itself is inconclusive, never
 * clean; a program that lockscope stopped had not ended, so its waits say nothing.
 */
export function verdict(
  report: Report,
  fails: (f: Finding) => boolean,
  programFailed: boolean,
  /**
   * True when lockscope stopped the program (a deadlock, --timeout, a signal sent to lockscope):
   * its flows had not ended.
   */
  stopped = false,
  /**
   * Connections the collector refused: each may be a process of the program (a child among
   * many started at once) whose events the analysis never saw.
   */
  refused = 0,
): Verdict {
  if (programFailed) return { status: EXIT.failed };
  if (refused > 0) {
    return {
      status: EXIT.inconclusive,
      inconclusive:
        `${refused} connection${refused === 1 ? ' was' : 's were'} refused, so a process may ` +
        'have gone unobserved and the analysis cannot judge the run',
    };
  }
  const dropped = report.processes.reduce((n, p) => n + p.dropped, 0);
  if (dropped > 0) {
    const processes = report.processes.filter((p) => p.dropped > 0).length;
    return {
      status: EXIT.inconclusive,
      inconclusive:
        `${dropped} events were lost (in ${processes} process${processes === 1 ? '' : 'es'}), ` +
        'so the analysis cannot judge the run',
    };
  }
  if (report.findings.some((f) => f.certainty !== 'uncertain' && fails(f))) {
    return { status: EXIT.failed };
  }
  // An uncertain finding never fails the run, and never passes it either.
  const uncertain = report.findings.filter((f) => f.certainty === 'uncertain');
  if (uncertain.length > 0) {
    return {
      status: EXIT.inconclusive,
      inconclusive:
        `${uncertain.length} finding${uncertain.length === 1 ? ' is' : 's are'} uncertain ` +
        `(${[...new Set(uncertain.flatMap((f) => f.uncertainty ?? []))].join(', ')}), ` +
        'so the analysis cannot judge the run',
    };
  }
  // Flows still waiting when the program ended (it called process.exit, or was stopped) were
  // never judged: the run is not clean, and no finding says why.
  const blocked = report.graph.nodes.filter((n) => n.type === 'task' && n.detail === 'blocked');
  if (blocked.length > 0 && report.findings.length === 0 && !stopped) {
    return {
      status: EXIT.inconclusive,
      inconclusive:
        `${blocked.length} flow${blocked.length === 1 ? ' was' : 's were'} still blocked when the ` +
        `program ended (${blocked.map((n) => n.label).join(', ')}), and nothing was found to explain it`,
    };
  }
  return { status: EXIT.clean };
}

/** What an exit code or signal means, in words for the status line. */
export function describeExit(exit: { code: number | null; signal: string | null }): string {
  if (exit.signal) {
    const why: Record<string, string> = {
      SIGKILL: ' (killed: by the system when it runs out of memory, or by another program)',
      SIGSEGV: ' (a crash in native code)',
      SIGABRT: ' (aborted: for example a fatal error in Node itself)',
    };
    return `was killed by signal ${exit.signal}${why[exit.signal] ?? ''}`;
  }
  const meaning: Record<number, string> = {
    1: ' (an uncaught error, or the program chose to fail)',
    13: ' (Node’s status for a module whose top-level await never settled: promises were left pending)',
  };
  const code = exit.code ?? 0;
  return `exited with code ${code}${meaning[code] ?? ''}`;
}
