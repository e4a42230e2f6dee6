// Findings that fit: each named pattern's example gives exactly one finding of its kind and
// pattern, at the example's own lines, with the advice written for that pattern and for no other;
// sites skip library code; fail-fast refuses a read-write lock cycle with the cycle as data.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { Finding, Report } from '../../runtime-probe/src/analysis/types.js';
import {
  blockedForeverWords,
  deadlockWords,
  leftHeldWords,
  selfDeadlockWords,
} from '../../runtime-probe/src/analysis/wording.js';

const exec = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const cli = resolve(root, 'runtime-probe/dist/cli.cjs');
const scratch = mkdtempSync(join(tmpdir(), 'lockscope-fit-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  report: Report;
}

async function lockscope(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  let code = 0;
  try {
    ({ stdout, stderr } = await exec(process.execPath, [cli, ...args], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, ...env },
      timeout: 60_000,
    }));
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    code = e.code;
    stdout = e.stdout ?? '';
    stderr = e.stderr ?? '';
  }
  // --json prints the report last; a program's own lines may come before it.
  const start = stdout.indexOf('{\n');
  const report = args.includes('--json')
    ? (JSON.parse(stdout.slice(start)) as Report)
    : { version: 1, findings: [] };
  return { code, stdout, stderr, report: report as Report };
}

/** Records the example's trace with the probe alone, then analyses it with `lockscope report`. */
async function recordAndReport(file: string): Promise<Report> {
  const trace = join(scratch, `${file.replace(/\W/g, '_')}.jsonl`);
  try {
    await exec(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: { ...process.env, LOCKSCOPE_TRACE: trace },
      timeout: 60_000,
    });
  } catch {
    // The buggy examples exit 13 (an unsettled top-level await): that is their bug.
  }
  return (await lockscope(['report', '--json', trace])).report;
}

const lines = (f: Finding): string[] => [...new Set(f.sites.map((s) => relative(root, s.file)))];

const PATTERNS = [
  {
    example: 'rwlock-upgrade.ts',
    kind: 'self-deadlock',
    pattern: 'rw-upgrade',
    fix: selfDeadlockWords.upgrade.fix('prices'),
  },
  {
    example: 'rwlock-read-under-write.ts',
    kind: 'self-deadlock',
    pattern: 'read-under-write',
    fix: selfDeadlockWords.readUnderWrite.fix(),
  },
  {
    example: 'barrier-short.ts',
    kind: 'blocked-forever',
    pattern: 'missing-party',
    fix: blockedForeverWords.barrier('phase', [])[1],
  },
  {
    example: 'producer-consumer-forgotten-close.ts',
    kind: 'blocked-forever',
    pattern: 'no-sender',
    fix: blockedForeverWords.channelRecv('jobs', [])[1],
  },
  {
    example: 'lock-left-held.ts',
    kind: 'self-deadlock',
    pattern: 'left-held',
    fix: leftHeldWords.fix('ledger', 'withdraw'),
  },
] as const;

const examples = readdirSync(resolve(root, 'examples')).filter((f) => f.endsWith('.ts'));

describe('findings that fit', { concurrency: 2 }, () => {
  const fixes = new Map<string, string[]>();
  for (const p of PATTERNS) {
    for (const mode of ['run', 'report'] as const) {
      test(`${p.example}: one ${p.kind} (${p.pattern}) at its lines, under ${mode}`, async () => {
        const report =
          mode === 'run'
            ? (await lockscope(['run', '--json', `examples/${p.example}`])).report
            : await recordAndReport(`examples/${p.example}`);
        assert.equal(report.findings.length, 1, JSON.stringify(report.findings, null, 1));
        const f = report.findings[0]!;
        assert.equal(f.kind, p.kind);
        assert.equal(f.pattern, p.pattern);
        assert.equal(f.fix, p.fix);
        assert.deepEqual(lines(f), [`examples/${p.example}`]);
      });
    }
    test(`${p.example.replace('.ts', '-fixed.ts')} or its documented fix is clean`, async (t) => {
      const fixed = {
        'rwlock-upgrade.ts': 'rwlock-upgrade-fixed.ts',
        'rwlock-read-under-write.ts': 'rwlock-write-passes-down.ts',
        'barrier-short.ts': 'barrier-phases.ts',
        'producer-consumer-forgotten-close.ts': 'producer-consumer-channel.ts',
        'lock-left-held.ts': 'lock-left-held-fixed.ts',
      }[p.example];
      t.diagnostic(`fix: ${fixed}`);
      const { report, code } = await lockscope(['run', '--json', `examples/${fixed}`]);
      assert.deepEqual(report.findings, []);
      assert.equal(code, 0);
    });
  }

  test("each pattern's advice is given for that pattern and no other example", async () => {
    for (const example of examples) {
      const { report } = await lockscope(['run', '--json', `examples/${example}`]);
      for (const f of report.findings) fixes.set(example, [...(fixes.get(example) ?? []), f.fix]);
    }
    for (const p of PATTERNS) {
      const givenIn = [...fixes].filter(([, all]) => all.includes(p.fix)).map(([e]) => e);
      assert.deepEqual(givenIn, [p.example], `advice of ${p.pattern}`);
    }
  });

  test('a helper module marked as library code puts every site on the caller’s lines', async () => {
    for (const [program, where] of [
      ['examples/go-style-deadlock.ts', 'examples/go-style-deadlock.ts'],
      ['test/fixtures/go-configured.ts', 'test/fixtures/go-deadlock.ts'],
      ['test/fixtures/go-unmarked.ts', 'examples/lib/go.ts'],
    ] as const) {
      const { report } = await lockscope(['run', '--json', program]);
      assert.equal(report.findings.length, 1, program);
      const f = report.findings[0]!;
      assert.equal(f.kind, 'deadlock', program);
      assert.equal(f.sites.length, 4, program);
      assert.deepEqual(lines(f), [where], program);
      // Two locks in opposite orders: the advice is the order, wherever the sites are.
      assert.equal(f.pattern, undefined, program);
      assert.match(f.fix, /^Take the locks in one global order/, program);
    }
  });

  test('the text report shows every place of a finding, up to --max-sites', async () => {
    const { stdout } = await lockscope(['run', 'examples/dining-philosophers.ts']);
    assert.doesNotMatch(stdout, /and \d+ more/);
    assert.match(stdout, /dine #1 waits for fork 1; .*dine #5 waits for fork 0/);
    const few = await lockscope(['run', '--max-sites', '1', 'examples/go-style-deadlock.ts']);
    assert.match(few.stdout, /3 more sites not shown \(--max-sites 4 shows them all\)/);
  });

  test('a guard an async helper returns to its caller is not left held', async () => {
    const { report } = await lockscope(['run', '--json', 'test/fixtures/guard-handed-on.ts']);
    assert.equal(report.findings.length, 1);
    assert.equal(report.findings[0]!.kind, 'self-deadlock');
    assert.equal(report.findings[0]!.pattern, undefined);
  });

  test('fail-fast refuses a read-write lock cycle with the cycle as data', async () => {
    // Under --json the program's own output goes to stderr.
    const { stderr, report, code } = await lockscope([
      'run',
      '--json',
      'test/fixtures/fail-fast-rwlock.ts',
    ]);
    const line = stderr.split('\n').find((l) => l.startsWith('{"victim"'));
    assert.ok(line, stderr);
    const seen = JSON.parse(line) as {
      victim: string;
      cycle: { task: string; resource: string; blockedBy: string; site?: { line: number } }[];
      frame: string;
    };
    assert.equal(seen.cycle.length, 2);
    assert.equal(seen.cycle[0]!.task, seen.victim);
    assert.equal(seen.cycle[1]!.blockedBy, seen.victim);
    assert.deepEqual(new Set(seen.cycle.map((s) => s.resource)), new Set(['prices', 'stock']));
    for (const step of seen.cycle) assert.equal(step.site?.line, 15);
    assert.match(seen.frame, /^at take \(.*test\/fixtures\/fail-fast-rwlock\.ts:15:\d+\)$/);
    assert.equal(report.findings.length, 1);
    const f = report.findings[0]!;
    assert.equal(f.kind, 'deadlock');
    assert.equal(f.pattern, 'averted');
    assert.equal(f.severity, 'warning');
    assert.equal(code, 0);
  });
});

describe('one bug, one finding, whether or not the program was stopped', { concurrency: 2 }, () => {
  // `run` stops a deadlocked program; a trace recorded without Lockscope watching goes on to the
  // program's own end (a timeout that terminates workers, an unsettled await). Both must tell
  // the same findings.
  const golden = JSON.parse(
    readFileSync(resolve(root, 'test/golden/examples.json'), 'utf8'),
  ) as Record<string, { findings: { kind: string; pattern?: string }[] }>;
  for (const [example, { findings }] of Object.entries(golden)) {
    if (findings.length === 0) continue;
    test(`${example}, recorded and reported`, async () => {
      const report = await recordAndReport(`examples/${example}`);
      assert.deepEqual(
        report.findings.map((f) => [f.kind, f.pattern]),
        findings.map((f) => [f.kind, f.pattern]),
      );
    });
  }
});

describe('findings that fit: refusals, timeouts and permits', { concurrency: 2 }, () => {
  test('a refused upgrade the program recovers from is an averted warning', async () => {
    const { stderr, report, code } = await lockscope([
      'run',
      '--json',
      'test/fixtures/fail-fast-upgrade.ts',
    ]);
    assert.match(stderr, /refused: 1 step\nrecovered/);
    assert.doesNotMatch(stderr, /stopped the program/);
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.pattern, f.severity]),
      [['deadlock', 'averted', 'warning']],
    );
    assert.equal(code, 0);
  });

  test('a cycle that a timeout breaks is a warning, and the program goes on', async () => {
    const { stderr, report, code } = await lockscope([
      'run',
      '--json',
      'test/fixtures/timeout-backoff.ts',
    ]);
    assert.doesNotMatch(stderr, /stopped the program/);
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.pattern, f.severity, f.tasks[0]!.name]),
      [['deadlock', 'timed-out', 'warning', 'a']],
    );
    assert.equal(code, 0);
  });

  test('a cycle on one semaphore gets advice about permits', async () => {
    const { report } = await lockscope(['run', '--json', 'test/fixtures/semaphore-cycle.ts']);
    assert.equal(report.findings.length, 1);
    assert.equal(report.findings[0]!.fix, deadlockWords.fix.permits('pool'));
  });
});

describe('fail-fast across threads', () => {
  test('a SharedMutex cycle of blocked workers: one is refused with the cycle as data', async () => {
    const { stderr, report, code } = await lockscope([
      'run',
      '--json',
      'test/fixtures/fail-fast-shared.ts',
    ]);
    const lines = stderr.split('\n').filter((l) => l.startsWith('{"cycle"'));
    assert.equal(lines.length, 1, stderr);
    const seen = JSON.parse(lines[0]!) as {
      cycle: { task: string; resource: string; blockedBy: string; site?: { line: number } }[];
      frame: string;
    };
    assert.equal(seen.cycle.length, 2);
    assert.equal(seen.cycle[0]!.task, seen.cycle[1]!.blockedBy);
    assert.equal(seen.cycle[1]!.task, seen.cycle[0]!.blockedBy);
    assert.deepEqual(new Set(seen.cycle.map((s) => s.resource)), new Set(['inventory', 'orders']));
    assert.equal(seen.cycle[0]!.site?.line, 18);
    assert.match(seen.frame, /^at .*test\/fixtures\/fail-fast-shared-worker\.mjs:18:\d+\)?$/);
    assert.match(stderr, /workers ended with exit codes 0, 0/);
    assert.deepEqual(
      report.findings.map((f) => [
        f.kind,
        f.pattern,
        f.severity,
        f.tasks.map((t) => t.name).sort(),
      ]),
      [['deadlock', 'averted', 'warning', ['worker 1', 'worker 2']]],
    );
    assert.equal(code, 0);
  });
});
