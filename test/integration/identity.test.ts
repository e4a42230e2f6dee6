// Identity shapes, end to end: each shape of test/fixtures/identity/shapes.ts runs under
// `lockscope run --json` (on the Node under test) and must show exactly the flows the definition
// in the README gives, and report what it should: nothing for a correct program, also under
// --fail-fast, and a deadlock between the right flows, at the right lines, for a buggy one.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { Report } from '../../runtime-probe/src/analysis/types.js';
import { runLockscope } from './run-program.js';

const SHAPES = 'test/fixtures/identity/shapes.ts';

interface Expected {
  /** The flows that held or waited, by name. */
  flows: string[];
  /** For a buggy shape: the finding, with its tasks and the lines of shapes.ts it points at. */
  finding?: { kind: string; tasks: string[]; lines: number[] };
}

const source = readFileSync(SHAPES, 'utf8').split('\n');
/** The line of shapes.ts that holds `text` (once). */
function lineOf(text: string): number {
  const at = source.findIndex((l) => l.includes(text));
  assert.ok(at >= 0 && source.findIndex((l, i) => i > at && l.includes(text)) < 0, text);
  return at + 1;
}

const times = (name: string, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `${name} #${i + 1}`);

const correct: Record<string, Expected> = {
  'promise-all-loops': { flows: times('useA', 3) },
  'promise-all-handlers-io-first': { flows: times('handle', 5) },
  'nested-promise-all': { flows: times('useA', 4) },
  'race-against-timeout': { flows: ['main', 'useA #1'] },
  'fire-and-forget': { flows: times('useA', 2) },
  'for-await': { flows: ['main'] },
  'async-generator': { flows: ['main'] },
  'then-chain': { flows: ['main'] },
  'queue-microtask': { flows: times('useA', 2) },
  'set-timeout': { flows: times('useA', 2) },
  'set-interval': { flows: times('useA', 3) },
  'set-immediate': { flows: times('useA', 2) },
  'next-tick': { flows: times('useA', 2) },
  'emitter-sync-listeners': { flows: ['main'] },
  'emitter-async-listeners': { flows: times('useA', 2) },
  'events-once': { flows: ['main'] },
  stream: { flows: times('useA', 3) },
  'http-server': { flows: times('useA', 3) },
  'fetch-in-flight': { flows: ['main'] },
  'worker-messages': { flows: times('useA', 2) },
  'abort-listener': { flows: ['useA #1'] },
  'class-methods': { flows: times('Account.deposit', 2) },
  recursion: { flows: ['main'] },
  'reentry-through-helpers': { flows: ['main'] },
  'reentrant-siblings': { flows: times('exclusive', 3) },
  'reentrant-http-handlers': { flows: times('exclusive', 3) },
  'promise-all-of-acquires': { flows: ['main'] },
  'return-after-unawaited-call': { flows: ['callback #1', 'useA #1'] },
  'await-a-value': { flows: ['main', ...times('useA', 2)] },
  'then-callback-starts-flow': { flows: ['main', 'useA #1'] },
};

const deadlock = {
  kind: 'deadlock',
  tasks: times('takeBoth', 2),
  lines: [lineOf('using _1 = await first.acquire()'), lineOf('using _2 = await second.acquire()')],
};
const buggy: Record<string, Expected> = {
  'deadlock-promise-all': { flows: times('takeBoth', 2), finding: deadlock },
  'deadlock-timers': { flows: times('takeBoth', 2), finding: deadlock },
  'deadlock-http-handlers': { flows: times('takeBoth', 2), finding: deadlock },
  'deadlock-fire-and-forget': { flows: times('takeBoth', 2), finding: deadlock },
  'self-deadlock': {
    flows: ['main'],
    finding: {
      kind: 'self-deadlock',
      tasks: ['main'],
      lines: [
        lineOf('using _ = await a.acquire(); // held'),
        lineOf('await a.acquire(); // again'),
      ],
    },
  },
};

describe('identity shapes: honesty where identity is uncertain', () => {
  test('an uncertain deadlock is a warning, never stops the program, and exits 3', async () => {
    const { code, report, stderr } = await runShape('deadlock-uncertain');
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.severity, f.certainty, f.uncertainty]),
      [['deadlock', 'warning', 'uncertain', ['identity']]],
    );
    assert.deepEqual(flowsOf(report), ['takeBoth #1 ?', 'takeBoth #2 ?']);
    assert.match(stderr, /deadlock-uncertain ran to its end/);
    assert.doesNotMatch(stderr, /stopped the program/);
    assert.equal(code, 3);
  });
  test('operations sent before their run was decided make its flows uncertain', async () => {
    // `flush-mid-run` flushes while the flow it started is still provisional: its acquire goes
    // out as main's, so main's own acquire then seems to wait for main. Whatever the analysis
    // sees of that is uncertain, never an error. (Whether it sees anything depends on timing: a
    // wait that ends in the batch that began it is no self-deadlock, and on a loaded machine
    // the holder's release can come in that batch.)
    const { code, report } = await runShape('flush-mid-run');
    for (const f of report.findings) {
      assert.equal(f.certainty, 'uncertain', f.message);
      assert.notEqual(f.severity, 'error', f.message);
    }
    assert.equal(code, report.findings.length > 0 ? 3 : 0);
  });
});

async function runShape(
  shape: string,
  extra: string[] = [],
): Promise<{ code: number; report: Report; stderr: string }> {
  const { code, stdout, stderr } = await runLockscope([
    'run',
    '--json',
    ...extra,
    SHAPES,
    '--',
    shape,
  ]);
  let report: Report;
  try {
    report = JSON.parse(stdout) as Report;
  } catch {
    assert.fail(`${shape}: no report (exit ${code}): ${stderr}`);
  }
  return { code, report, stderr };
}

function flowsOf(report: Report): string[] {
  return [...new Set(report.timeline.lanes.map((l) => l.name))].sort();
}

describe('identity at a module top level', () => {
  test("every operation of the top level, across its awaits, is main's", async () => {
    // A `.then` the probe makes below the top level used to be taken for the top level's own
    // await, and everything after the first send became "flow #1".
    const { code, stdout, stderr } = await runLockscope([
      'run',
      '--json',
      'test/fixtures/identity/top-level.ts',
    ]);
    const report = JSON.parse(stdout) as Report;
    assert.deepEqual(flowsOf(report), ['consumer', 'main']);
    assert.deepEqual(report.findings, []);
    assert.match(stderr, /total 10/);
    assert.equal(code, 0);
  });
});

describe('identity shapes: correct programs', { concurrency: 2 }, () => {
  for (const [shape, expected] of Object.entries(correct)) {
    test(`${shape}: ${expected.flows.join(', ')}; nothing reported`, async () => {
      const { code, report } = await runShape(shape);
      assert.deepEqual(flowsOf(report), [...expected.flows].sort());
      assert.deepEqual(
        report.findings.map((f) => `${f.severity} ${f.kind}: ${f.message}`),
        [],
      );
      assert.equal(code, 0);
    });
  }
  test('every correct shape is also clean under --fail-fast', async () => {
    for (const shape of Object.keys(correct)) {
      const { code, report } = await runShape(shape, ['--fail-fast']);
      assert.deepEqual(
        report.findings.map((f) => `${shape}: ${f.kind}`),
        [],
      );
      assert.equal(code, 0, shape);
    }
  });
});

describe('identity shapes: deadlocks between un-annotated flows', { concurrency: 2 }, () => {
  for (const [shape, expected] of Object.entries(buggy)) {
    const f = expected.finding!;
    test(`${shape}: a ${f.kind} of ${f.tasks.join(' and ')}`, async () => {
      const { code, report } = await runShape(shape);
      assert.deepEqual(flowsOf(report), [...expected.flows].sort());
      assert.deepEqual(
        report.findings.map((x) => ({
          kind: x.kind,
          tasks: x.tasks.map((t) => t.name).sort(),
          lines: [...new Set(x.sites.map((s) => s.line))].sort((a, b) => a - b),
        })),
        [f],
      );
      assert.equal(code, 1);
    });
  }
});
