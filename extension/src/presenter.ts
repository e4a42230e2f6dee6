/**
 * What the editor shows for the findings, as plain data: diagnostics per file (with related
 * information for the other ends of a cycle), the short text decorated after a line, hover text,
 * and CodeLens text from the contention statistics. Pure, so it is tested on plain Node; the
 * extension turns these into VS Code objects.
 */
import type { ContentionStats, Finding, SiteRef } from 'lockscope/report';
import { certaintyWords } from 'lockscope/report';

export interface Place {
  file: string;
  /** 0-based, as VS Code counts. */
  line: number;
  column: number;
}

export interface RelatedSpec extends Place {
  message: string;
}

export interface DiagnosticSpec extends Place {
  severity: Finding['severity'];
  message: string;
  /** The finding kind, shown as the diagnostic's code. */
  code: string;
  findingId: string;
  related: RelatedSpec[];
  /** A short text for the decoration after the line. */
  inline: string;
}

function place(s: SiteRef): Place {
  return { file: s.file, line: Math.max(0, s.line - 1), column: Math.max(0, s.column - 1) };
}

function key(p: Place): string {
  return `${p.file}:${p.line}:${p.column}`;
}

/**
 * The sites where a finding is shown: the waiting lines of a deadlock, both acquisition sites of
 * an inversion, the acquisition site of an abandoned lock, the waiting lines of tasks blocked
 * forever, otherwise the first site.
 */
function primarySites(f: Finding): SiteRef[] {
  switch (f.kind) {
    case 'deadlock':
      return f.cycle?.flatMap((e) => (e.waitSite ? [e.waitSite] : [])) ?? f.sites.slice(0, 1);
    case 'lock-order-inversion':
      // The inner acquisitions, by the code the analysis gives each site (a site it could not
      // capture is left out of the list, so positions would not do).
      return f.sites.filter((s) => s.act === 'takes-then');
    case 'blocked-forever':
      return f.sites.filter((s) => s.act === 'waits');
    default:
      return f.sites.slice(0, 1);
  }
}

export function diagnosticsFor(findings: readonly Finding[]): Map<string, DiagnosticSpec[]> {
  const byFile = new Map<string, DiagnosticSpec[]>();
  for (const f of findings) {
    const primary = primarySites(f).filter((s) => s.file && s.line > 0);
    const seen = new Map<string, DiagnosticSpec>();
    for (const site of primary) {
      const at = place(site);
      const k = key(at);
      const existing = seen.get(k);
      if (existing) continue;
      const related = f.sites
        .filter((s) => s.file && s.line > 0 && key(place(s)) !== k)
        .map((s) => ({ ...place(s), message: s.role }));
      const spec: DiagnosticSpec = {
        ...at,
        severity: f.severity,
        message: `${f.title}. ${site.role}.\n${f.fix}${uncertainNote(f, '\n')}`,
        code: f.kind,
        findingId: f.id,
        related: dedupe(related),
        inline: `${inlineIcon(f)} ${site.role}`,
      };
      seen.set(k, spec);
      let list = byFile.get(at.file);
      if (!list) byFile.set(at.file, (list = []));
      list.push(spec);
    }
  }
  return byFile;
}

function inlineIcon(f: Finding): string {
  if (f.certainty === 'uncertain') return '?';
  return f.kind === 'deadlock' && f.severity === 'error'
    ? '⛔'
    : f.severity === 'error'
      ? '✖'
      : '⚠';
}

/** The sentence that says why a finding is uncertain, after `sep`; empty for an exact one. */
function uncertainNote(f: Finding, sep: string): string {
  return f.certainty === 'uncertain' ? `${sep}${certaintyWords.why(f.uncertainty ?? [])}` : '';
}

function dedupe(related: RelatedSpec[]): RelatedSpec[] {
  const out = new Map<string, RelatedSpec>();
  for (const r of related) {
    const k = key(r);
    const seen = out.get(k);
    if (seen) {
      if (!seen.message.includes(r.message)) seen.message += `; ${r.message}`;
    } else out.set(k, { ...r });
  }
  return [...out.values()];
}

/** Markdown for a hover on a line that has findings. */
export function hoverMarkdown(f: Finding): string {
  const lines = [`**Lockscope: ${f.title}**`, '', `${f.message}${uncertainNote(f, ' ')}`, ''];
  if (f.cycle?.length) {
    lines.push('The cycle:', '');
    for (const e of f.cycle) {
      const wait = e.waitSite ? ` (line ${e.waitSite.line})` : '';
      const hold = e.holdSite?.line ? `, acquired at line ${e.holdSite.line}` : '';
      lines.push(`- ${e.waitSite?.role ?? e.from}${wait}${hold}`);
    }
    lines.push('');
  }
  lines.push(`*Fix:* ${f.fix}`);
  return lines.join('\n');
}

/** CodeLens text for one acquisition site. */
export function lensText(s: ContentionStats): string {
  const ms = (us: number): string =>
    us >= 1000 ? `${(us / 1000).toFixed(1)} ms` : `${Math.round(us)} µs`;
  return (
    `$(lock) ${s.acquisitions} ${s.acquisitions === 1 ? 'acquisition' : 'acquisitions'}, ` +
    `${s.contended} contended · wait p99 ${ms(s.wait.p99)} · hold p99 ${ms(s.hold.p99)}`
  );
}

/** Parses a site statistics key, `file:line:column`, into a place. */
export function siteKeyPlace(k: string): Place | undefined {
  const m = /^(.*):(\d+):(\d+)$/.exec(k);
  if (!m) return undefined;
  return { file: m[1]!, line: Number(m[2]) - 1, column: Number(m[3]) - 1 };
}

/** The status bar text for a session. */
export function statusText(processes: number, findings: readonly Finding[]): string {
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.filter((f) => f.severity === 'warning').length;
  const parts = [`$(lock) Lockscope`];
  parts.push(processes === 1 ? '1 process' : `${processes} processes`);
  if (errors) parts.push(`$(error) ${errors}`);
  if (warnings) parts.push(`$(warning) ${warnings}`);
  return parts.join(' · ');
}
