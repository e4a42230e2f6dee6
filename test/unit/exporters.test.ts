// The report formats other tools read: SARIF 2.1.0 (validated against its schema) and the
// Chrome trace event format that Perfetto opens (checked field by field).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import AjvModule from 'ajv-draft-04';
import formatsModule from 'ajv-formats';
import { toChromeTrace, type TraceEvent } from '../../runtime-probe/src/analysis/chrome-trace.js';
import { toSarif } from '../../runtime-probe/src/analysis/sarif.js';
import { formatReport } from '../../runtime-probe/src/analysis/text.js';
import { analyzeTrace } from '../../runtime-probe/src/analysis/trace.js';
import type { Report } from '../../runtime-probe/src/analysis/types.js';
import { TraceBuilder } from '../trace-builder.js';

/** A deadlock, a handed-over lock (for a flow arrow) and a misuse, in one trace. */
function sample(): Report {
  const b = new TraceBuilder()
    .task(1, 'alice')
    .task(2, 'bob')
    .task(3, 'carol')
    .resource(11, 'mutex', 'a')
    .resource(12, 'mutex', 'b')
    .resource(13, 'mutex', 'c')
    .site(10, 'transfer')
    .site(11)
    .site(12)
    .site(13)
    .ev(0, 'acquired', 3, 13, 10)
    .ev(5, 'request', 1, 13, 11)
    .ev(20, 'released', 3, 13)
    .ev(21, 'acquired', 1, 13, 11)
    .ev(22, 'released', 1, 13)
    .ev(30, 'misuse', 3, 13, 12, 1)
    .ev(40, 'acquired', 1, 11, 10)
    .ev(41, 'acquired', 2, 12, 12)
    .ev(42, 'request', 1, 12, 11)
    .ev(43, 'request', 2, 11, 13);
  return analyzeTrace(b.text()).report();
}

describe('SARIF', () => {
  const require = createRequire(import.meta.url);
  const schema = JSON.parse(
    readFileSync(
      require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'),
      'utf8',
    ),
  ) as object;
  // The published schema has a language-tag pattern that is invalid as a Unicode regular
  // expression (a stray bracket), so the patterns are compiled without the `u` flag.
  // Both packages are CommonJS with `exports.default`, which NodeNext types as the namespace.
  const Ajv = AjvModule.default;
  const addFormats = formatsModule.default;
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);

  test('the log validates against the SARIF 2.1.0 schema', () => {
    const log = toSarif(sample(), { cwd: '/app', toolVersion: '0.1.0' });
    const ok = validate(log);
    assert.ok(ok, JSON.stringify(validate.errors, null, 2));
  });

  test('schema validation does catch a broken log', () => {
    const log = toSarif(sample(), { cwd: '/app', toolVersion: '0.1.0' }) as {
      runs: { results: { level?: string }[] }[];
    };
    log.runs[0]!.results[0]!.level = 'catastrophic';
    assert.equal(validate(log), false);
  });

  test('results point at the source relative to the project, with related locations', () => {
    const log = toSarif(sample(), { cwd: '/app', toolVersion: '0.1.0' }) as {
      runs: {
        results: Record<string, unknown>[];
        originalUriBaseIds: { SRCROOT: { uri: string } };
      }[];
    };
    const run = log.runs[0]!;
    assert.equal(run.originalUriBaseIds.SRCROOT.uri, 'file:///app/');
    const deadlock = run.results.find((r) => r.ruleId === 'deadlock') as {
      level: string;
      locations: {
        physicalLocation: {
          artifactLocation: { uri: string; uriBaseId: string };
          region: { startLine: number };
        };
      }[];
      relatedLocations: unknown[];
    };
    assert.equal(deadlock.level, 'error');
    assert.deepEqual(deadlock.locations[0]!.physicalLocation.artifactLocation, {
      uri: 'src/bank.ts',
      uriBaseId: 'SRCROOT',
    });
    assert.equal(deadlock.locations[0]!.physicalLocation.region.startLine, 11);
    assert.equal(deadlock.relatedLocations.length, 3);
  });
});

describe('Chrome trace event format', () => {
  const PHASES = new Set(['X', 'i', 's', 'f', 'M']);

  function check(events: TraceEvent[]): void {
    for (const e of events) {
      assert.equal(typeof e.name, 'string');
      assert.ok(PHASES.has(e.ph), `unknown phase ${e.ph}`);
      assert.ok(Number.isFinite(e.ts) && e.ts >= 0, `ts of ${e.name}`);
      assert.ok(Number.isInteger(e.pid) && Number.isInteger(e.tid), `pid and tid of ${e.name}`);
      if (e.ph === 'X') assert.ok(Number.isFinite(e.dur) && e.dur! >= 0, `dur of ${e.name}`);
      if (e.ph === 'M')
        assert.equal(
          typeof e.args?.name === 'string' || typeof e.args?.sort_index === 'number',
          true,
        );
      if (e.ph === 'i') assert.ok(e.s === 'g' || e.s === 'p' || e.s === 't');
      if (e.ph === 's' || e.ph === 'f') assert.ok(Number.isInteger(e.id));
      if (e.ph === 'f') assert.equal(e.bp, 'e');
    }
    // Every flow has a start and an end, the end not before the start.
    const starts = new Map(events.filter((e) => e.ph === 's').map((e) => [e.id, e]));
    const ends = events.filter((e) => e.ph === 'f');
    assert.equal(starts.size, ends.length);
    for (const f of ends) assert.ok(starts.get(f.id)!.ts <= f.ts);
  }

  test('the trace is well formed, with a track per task and a flow from release to waiter', () => {
    const trace = toChromeTrace(sample());
    assert.equal(trace.displayTimeUnit, 'ms');
    check(trace.traceEvents);
    const names = trace.traceEvents
      .filter((e) => e.ph === 'M' && e.name === 'thread_name')
      .map((e) => e.args?.name);
    assert.deepEqual(names, ['carol', 'alice', 'bob']);
    const [start] = trace.traceEvents.filter((e) => e.ph === 's');
    const [end] = trace.traceEvents.filter((e) => e.ph === 'f');
    assert.equal(start?.ts, 20, 'the arrow starts where carol released c');
    assert.equal(end?.ts, 21, 'and ends where alice got it');
    assert.notEqual(start.tid, end.tid);
    assert.ok(trace.traceEvents.some((e) => e.ph === 'i' && e.name.startsWith('deadlock')));
  });

  test('the checker rejects a flow without its start', () => {
    const trace = toChromeTrace(sample());
    const broken = trace.traceEvents.filter((e) => e.ph !== 's');
    assert.throws(() => check(broken));
  });
});

describe('text report', () => {
  test('shows each finding with its source lines, and the fix', () => {
    const source = ['line 1', '', '', '', '', '', '', '', '', 'take(a)', '  take(b)', 'x', 'y'];
    const text = formatReport(sample(), {
      cwd: '/app',
      color: false,
      readSource: (f) => (f === '/app/src/bank.ts' ? source : undefined),
    });
    assert.match(text, /✖ deadlock {2}Deadlock: 2 tasks wait for each other in a cycle/);
    assert.match(text, /src\/bank\.ts:11:5 {2}alice waits for b/);
    assert.match(text, / {4}11 \| {3}take\(b\)\n +\| {5}\^/);
    assert.match(text, /fix: Take the locks in one global order/);
    assert.match(text, /2 findings: 2 errors, 0 warnings/);
  });
});
