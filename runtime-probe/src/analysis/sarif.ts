/**
 * SARIF 2.1.0 output, the format code-scanning services read: one rule per finding kind, one
 * result per finding, its first site as the location and the other sites as related locations,
 * with a stable fingerprint so that a service can follow a finding from run to run.
 */
import { isAbsolute, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  FINDING_KINDS,
  type Finding,
  type FindingKind,
  type Report,
  type SiteRef,
} from './types.js';

const RULES: Record<FindingKind, string> = {
  deadlock: 'Tasks wait for each other in a cycle: none of them can go on.',
  'blocked-forever': 'Tasks are still waiting when nothing is left that could wake them.',
  'lock-order-inversion':
    'Two locks are taken in opposite orders by different tasks: a deadlock waiting to happen.',
  'abandoned-lock': 'A lock is still held by a task that ended, threw or can no longer run.',
  'self-deadlock': 'A task waits for a non-re-entrant lock that it already holds.',
  misuse: 'A primitive was used against its contract (double release, release by a non-owner...).',
  starvation: 'A task waits while the resource is granted to others again and again.',
  'long-hold': 'A lock was held for longer than the configured limit.',
  livelock: 'Tasks keep retrying try-locks without any of them making progress.',
};

export interface SarifOptions {
  /** Sites under this folder are written relative to it (the SRCROOT base). */
  cwd: string;
  toolVersion: string;
}

type Json = Record<string, unknown>;

export function toSarif(report: Report, options: SarifOptions): Json {
  const rules = FINDING_KINDS.map((kind) => ({
    id: kind,
    name: kind.replace(/(^|-)(\w)/g, (_, __: string, c: string) => c.toUpperCase()),
    shortDescription: { text: RULES[kind] },
    helpUri: `https://github.com/lockscope/lockscope#${kind}`,
  }));
  const results = report.findings.map((f) => result(f, options));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'Lockscope',
            version: options.toolVersion,
            informationUri: 'https://github.com/lockscope/lockscope',
            rules,
          },
        },
        originalUriBaseIds: {
          SRCROOT: {
            uri: pathToFileURL(options.cwd.endsWith(sep) ? options.cwd : options.cwd + sep).href,
          },
        },
        results,
      },
    ],
  };
}

function result(f: Finding, options: SarifOptions): Json {
  const [primary, ...others] = f.sites;
  const r: Json = {
    ruleId: f.kind,
    ruleIndex: FINDING_KINDS.indexOf(f.kind),
    level: f.severity === 'info' ? 'note' : f.severity,
    message: { text: f.fix ? `${f.message} Fix: ${f.fix}` : f.message },
    partialFingerprints: { 'lockscopeFinding/v1': f.id },
    properties: {
      ...(f.pattern ? { pattern: f.pattern } : {}),
      tasks: f.tasks.map((t) => t.name),
      resources: f.resources.map((x) => `${x.name} (${x.kind})`),
    },
  };
  if (primary) r.locations = [location(primary, options)];
  if (others.length) {
    r.relatedLocations = others.map((s, i) => ({ id: i + 1, ...location(s, options) }));
  }
  return r;
}

function location(site: SiteRef, options: SarifOptions): Json {
  const rel = relative(options.cwd, site.file);
  const inside = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  const artifactLocation = inside
    ? { uri: rel.split(sep).map(encodeURIComponent).join('/'), uriBaseId: 'SRCROOT' }
    : { uri: pathToFileURL(site.file).href };
  return {
    physicalLocation: {
      artifactLocation,
      region: { startLine: Math.max(1, site.line), startColumn: Math.max(1, site.column) },
    },
    message: { text: site.role },
  };
}
