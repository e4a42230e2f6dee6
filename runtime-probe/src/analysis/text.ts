/**
 * The readable report for terminals: each finding with its message, every site with the source
 * line it points at, and the suggested fix; then contention figures. Pure: the caller passes a
 * function that reads source lines, so tests need no files.
 */
import { relative } from 'node:path';
import type { ContentionStats, Finding, Report, SiteRef } from './types.js';
import { certaintyWords, processWords } from './wording.js';

export interface TextOptions {
  /** Paths are shown relative to this folder. */
  cwd: string;
  /** Returns the lines of a source file, or undefined when it cannot be read. */
  readSource(file: string): string[] | undefined;
  /** ANSI colours. */
  color: boolean;
  /** How many of the busiest locks to list (0 for none). */
  topLocks?: number;
  /** How many places of a finding to show with their source lines (DEFAULT_MAX_SITES). */
  maxSites?: number;
}

/** Enough for a deadlock of ten tasks with both ends of every edge on a line of its own. */
export const DEFAULT_MAX_SITES = 20;

const ICON: Record<Finding['severity'], string> = { error: '✖', warning: '⚠', info: 'ℹ' };

export function formatReport(report: Report, options: TextOptions): string {
  const paint = (code: string, s: string): string =>
    options.color ? `\u001b[${code}m${s}\u001b[0m` : s;
  const out: string[] = [];
  // With child processes in the session, each finding says whose it is.
  const names = new Map(report.processes.map((p) => [p.pid, processWords.name(p)]));
  const many = names.size > 1;
  for (const f of report.findings) {
    const colour = f.severity === 'error' ? '31' : f.severity === 'warning' ? '33' : '36';
    out.push(paint(`1;${colour}`, `${ICON[f.severity]} ${f.kind}`) + `  ${paint('1', f.title)}`);
    const pid = f.tasks[0]?.pid;
    if (many && pid !== undefined) out.push(`  in ${names.get(pid) ?? `process ${pid}`}`);
    if (f.cycle) {
      // A cycle reads best one edge per line.
      for (const part of f.message
        .replace(/^[^:]*: /, '')
        .replace(/\.$/, '')
        .split('; ')) {
        out.push(`    ${part}`);
      }
    } else if (f.message !== f.title) {
      out.push(`  ${f.message}`);
    }
    if (f.certainty === 'uncertain') {
      out.push(`  ${paint('33', 'uncertain:')} ${certaintyWords.why(f.uncertainty ?? [])}`);
    }
    const sites = dedupeSites(f.sites);
    const maxSites = options.maxSites ?? DEFAULT_MAX_SITES;
    for (const site of sites.slice(0, maxSites)) out.push(...formatSite(site, options, paint));
    if (sites.length > maxSites) {
      out.push(
        `  ${paint('2', `${sites.length - maxSites} more ${plural(sites.length - maxSites, 'site')} not shown (--max-sites ${sites.length} shows them all)`)}`,
      );
    }
    if (f.fix) out.push(`  ${paint('32', 'fix:')} ${f.fix}`);
    out.push('');
  }
  const errors = report.findings.filter((f) => f.severity === 'error').length;
  const warnings = report.findings.filter((f) => f.severity === 'warning').length;
  out.push(
    report.findings.length === 0
      ? paint('32', '✔ no findings')
      : `${report.findings.length} ${plural(report.findings.length, 'finding')}: ` +
          `${errors} ${plural(errors, 'error')}, ${warnings} ${plural(warnings, 'warning')}`,
  );
  const top = options.topLocks ?? 5;
  const busiest = [...report.stats.resources]
    .filter((s) => s.contended > 0)
    .sort((a, b) => b.contended - a.contended || b.acquisitions - a.acquisitions)
    .slice(0, top);
  if (busiest.length) {
    out.push('', 'Contention (wait and hold times: p50 / p99 / max):');
    for (const s of busiest) out.push(`  ${formatStats(s)}`);
  }
  if (many) {
    out.push('', `Processes (${report.processes.length}):`);
    for (const p of report.processes) {
      const parent = p.ppid !== undefined ? names.get(p.ppid) : undefined;
      const parts = [processWords.name(p)];
      if (parent) parts.push(processWords.startedBy(parent));
      parts.push(processWords.status(p.exitCode));
      out.push(`  ${parts.join(', ')}`);
    }
  }
  for (const p of report.processes) {
    if (p.dropped) {
      out.push(
        paint('33', `note: process ${p.pid} dropped ${p.dropped} of ${p.produced} events;`) +
          ' findings may be incomplete',
      );
    }
  }
  return out.join('\n') + '\n';
}

function formatSite(
  site: SiteRef,
  options: TextOptions,
  paint: (code: string, s: string) => string,
): string[] {
  const file = relative(options.cwd, site.file) || site.file;
  const lines = [`  ${paint('36', `${file}:${site.line}:${site.column}`)}  ${site.role}`];
  const text = options.readSource(site.file)?.[site.line - 1];
  if (text !== undefined) {
    const gutter = String(site.line).padStart(5);
    lines.push(`  ${paint('2', `${gutter} |`)} ${text.replace(/\t/g, '  ')}`);
    const indent = text.slice(0, Math.max(0, site.column - 1)).replace(/\t/g, '  ').length;
    lines.push(
      `  ${' '.repeat(gutter.length)} ${paint('2', '|')} ${' '.repeat(indent)}${paint('1;31', '^')}`,
    );
  }
  return lines;
}

/**
 * The same place often plays several roles (everyone waits on one line): show it once, with
 * every role it plays.
 */
function dedupeSites(sites: SiteRef[]): SiteRef[] {
  const byPlace = new Map<string, { site: SiteRef; roles: string[] }>();
  for (const s of sites) {
    const key = `${s.file}:${s.line}:${s.column}`;
    const seen = byPlace.get(key);
    if (!seen) byPlace.set(key, { site: s, roles: [s.role] });
    else if (!seen.roles.includes(s.role)) seen.roles.push(s.role);
  }
  return [...byPlace.values()].map(({ site, roles }) => ({ ...site, role: roles.join('; ') }));
}

export function formatStats(s: ContentionStats): string {
  const ms = (us: number): string => (us >= 1000 ? `${(us / 1000).toFixed(1)} ms` : `${us} µs`);
  const what =
    s.resources !== undefined
      ? `${s.name} (${s.resources} ${plural(s.resources, s.kind)} made at one place, no longer used)`
      : `${s.name} (${s.kind})`;
  return (
    `${what}: ${s.acquisitions} ${plural(s.acquisitions, 'acquisition')}, ` +
    `${s.contended} contended; wait ${ms(s.wait.p50)} / ${ms(s.wait.p99)} / ${ms(s.wait.max)}; ` +
    `hold ${ms(s.hold.p50)} / ${ms(s.hold.p99)} / ${ms(s.hold.max)}`
  );
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}
