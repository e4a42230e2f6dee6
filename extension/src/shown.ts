/**
 * What the editor's views show: the window's session as it runs, the run a step-through session
 * stopped at, or the session of a collector the editor attached to. All answer the same questions (findings, contention, the report, the live
 * state), so that the Problems panel, the graph, the tree and CodeLens follow whichever happened
 * last. Pure, tested on plain Node.
 */
import type { ContentionStats, Finding, LiveState, Report } from 'lockscope/report';
import { checkReport } from '../../webview/src/protocol.js';

/** The questions the views ask; the session's Analyzer answers them too. */
export interface AnalysisView {
  readonly findings: readonly Finding[];
  siteStats(): ContentionStats[];
  report(options?: { maxIntervals?: number }): Report;
  state(limit?: number): LiveState;
}

/**
 * An analysis made elsewhere: what the debug adapter sends with each stop (its `lockscope/report`
 * event's body), and what an attached collector sends as it changes (its `report` lines).
 */
export interface SteppedReport {
  /** How far it is: decisions taken (a stepped run) or events analysed (a collector). */
  step: number;
  report: Report;
  state: LiveState;
}

/** A stepped run's analysis as a view: fixed, since the run stands still between two stops. */
export function steppedView(stepped: SteppedReport): AnalysisView {
  const { report, state } = stepped;
  return {
    findings: report.findings,
    siteStats: () => report.stats.sites,
    report: () => report,
    state: () => state,
  };
}

/**
 * Checks an event's body where it enters the extension (the adapter is a process of its own):
 * the report as the graph panel checks it, and the parts of the live state the tree reads.
 * Returns the stepped report, or what is wrong with it.
 */
export function parseSteppedReport(body: unknown): SteppedReport | string {
  if (typeof body !== 'object' || body === null) return 'the body must be an object';
  const b = body as Partial<Record<keyof SteppedReport, unknown>>;
  if (!Number.isSafeInteger(b.step) || (b.step as number) < 0) {
    return 'step must be a whole number';
  }
  const problem = checkReport(b.report);
  if (problem) return problem;
  const report = b.report as Report;
  const stats = report.stats as Partial<Report['stats']> | undefined;
  if (!stats || !Array.isArray(stats.sites) || !Array.isArray(stats.resources)) {
    return 'report.stats must list its sites and resources';
  }
  for (const f of report.findings as unknown[]) {
    const problem = checkFinding(f);
    if (problem) return problem;
  }
  for (const stat of stats.sites as unknown[]) {
    const st = stat as { key?: unknown; wait?: { p99?: unknown }; hold?: { p99?: unknown } } | null;
    if (
      typeof st?.key !== 'string' ||
      typeof st.wait?.p99 !== 'number' ||
      typeof st.hold?.p99 !== 'number'
    ) {
      return 'every site statistic needs its key and its wait and hold figures';
    }
  }
  const state = b.state as Partial<LiveState> | undefined;
  if (typeof state !== 'object' || state === null || !Array.isArray(state.processes)) {
    return 'state must list its processes';
  }
  for (const p of state.processes as unknown[]) {
    const proc = p as Partial<Record<'threads' | 'tasks' | 'resources', unknown>> | null;
    if (
      typeof proc !== 'object' ||
      proc === null ||
      !Array.isArray(proc.threads) ||
      !Array.isArray(proc.tasks) ||
      !Array.isArray(proc.resources)
    ) {
      return 'every process of the state needs its threads, tasks and resources';
    }
  }
  return { step: b.step as number, report, state: state as LiveState };
}

const SEVERITIES: readonly unknown[] = ['error', 'warning', 'info'];

/**
 * The parts of a finding the editor's views read (presenter.ts): the report's own check covers
 * what the webview reads, and no more.
 */
function checkFinding(value: unknown): string | undefined {
  const f = value as Partial<Record<keyof Finding, unknown>>;
  if (
    typeof f.id !== 'string' ||
    typeof f.kind !== 'string' ||
    typeof f.message !== 'string' ||
    typeof f.title !== 'string' ||
    !SEVERITIES.includes(f.severity)
  ) {
    return 'every finding needs an id, a kind, a severity, a title and a message';
  }
  const sites = [
    ...(f.sites as unknown[]),
    ...((f.cycle as { waitSite?: unknown }[] | undefined) ?? []).flatMap((e) =>
      typeof e === 'object' && e !== null && e.waitSite !== undefined ? [e.waitSite] : [],
    ),
  ];
  if (!sites.every(isPlace)) return 'every site of a finding needs a file, a line and a column';
  const resources: unknown = f.resources;
  if (
    !Array.isArray(resources) ||
    !resources.every((r: { name?: unknown } | null) => typeof r?.name === 'string')
  ) {
    return 'every finding needs its resources, each with a name';
  }
  return undefined;
}

function isPlace(value: unknown): boolean {
  const p = value as { file?: unknown; line?: unknown; column?: unknown } | null;
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.file === 'string' &&
    Number.isSafeInteger(p.line) &&
    (p.line as number) >= 1 &&
    Number.isSafeInteger(p.column) &&
    (p.column as number) >= 0
  );
}
