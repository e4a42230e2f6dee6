// Zero-change instrumentation: unmodified programs that use async-mutex (both builds), async-lock
// and Web Locks, run under `lockscope run` and `node --import lockscope/register`, with the
// real packages installed as dev dependencies. Run with the Node under test (LOCKSCOPE_TEST_NODE):
// on Node 20 the ES module build goes through `module.register`'s loader thread, from Node 22.15
// through `module.registerHooks`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { Finding, Report } from '../../runtime-probe/src/analysis/types.js';
import { events, node, NODE, opsOn, readTrace, type Outcome } from './run-program.js';
import type { Message } from '../../runtime-probe/src/protocol.js';

const exec = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const cli = resolve(root, 'runtime-probe/dist/cli.cjs');
const register = resolve(root, 'runtime-probe/dist/register.mjs');
const fixtures = 'test/fixtures/adapters';

async function run(fixture: string): Promise<Outcome & { report: Report }> {
  const out = await node([cli, 'run', '--json', `${fixtures}/${fixture}`]);
  return { ...out, report: JSON.parse(out.stdout) as Report };
}

const [major = 0, minor = 0] = (
  /^v(\d+)\.(\d+)/.exec((await exec(NODE, ['--version'], { encoding: 'utf8' })).stdout.trim()) ?? []
)
  .slice(1)
  .map(Number);
const webLocks = major > 24 || (major === 24 && minor >= 5);
const noWebLocks = webLocks
  ? false
  : `navigator.locks needs Node 24.5 or later; this round runs Node ${major}.${minor}`;

/** The deadlock finding: its two flows, and the lines where each waits. */
function deadlock(report: Report): { finding: Finding; waits: Record<string, number> } {
  const found = report.findings.filter((f) => f.kind === 'deadlock');
  assert.equal(found.length, 1, JSON.stringify(report.findings.map((f) => f.title)));
  const finding = found[0]!;
  const waits: Record<string, number> = {};
  for (const s of finding.sites) {
    if (s.act !== 'waits') continue;
    const who = finding.tasks.find((t) => s.role?.startsWith(t.name));
    if (who) waits[who.name] = s.line;
  }
  return { finding, waits };
}

const ABBA: readonly [string, string, Record<string, number>, string][] = [
  [
    'async-mutex-abba.cjs',
    'async-mutex-fixed.cjs',
    { 'transfer #1': 14, 'report #1': 22 },
    'mutex',
  ],
  [
    'async-mutex-abba.mjs',
    'async-mutex-fixed.mjs',
    { 'transfer #1': 14, 'report #1': 22 },
    'mutex',
  ],
  ['async-lock-abba.cjs', 'async-lock-fixed.cjs', { 'transfer #1': 13, 'report #1': 20 }, 'mutex'],
  ['web-locks-abba.mjs', 'web-locks-fixed.mjs', { 'transfer #1': 9, 'report #1': 16 }, 'mutex'],
];

describe('the adapters leave the program its own', () => {
  test('a timed-out withTimeout acquisition nobody handles is still an unhandled rejection', async () => {
    const fixture = `${fixtures}/async-mutex-unhandled.cjs`;
    const plain = await node([fixture]);
    assert.equal(plain.code, 1, plain.stderr);
    const observed = await node(['--import', register, fixture], {
      LOCKSCOPE_TRACE: join(mkdtempSync(join(tmpdir(), 'lockscope-unhandled-')), 't.jsonl'),
    });
    assert.equal(observed.code, plain.code, observed.stderr);
    assert.match(observed.stderr, /timeout/i);
  });
});

describe('lockscope run observes unmodified lock packages', { concurrency: 2 }, () => {
  for (const [buggy, fixed, lines, kind] of ABBA) {
    const skip = buggy.startsWith('web-locks') ? noWebLocks : false;
    test(
      `${buggy}: the ABBA deadlock between the right flows at the right lines`,
      { skip },
      async () => {
        const { code, stderr, report } = await run(buggy);
        const { finding, waits } = deadlock(report);
        assert.equal(finding.severity, 'error');
        assert.equal(finding.certainty, 'exact');
        assert.deepEqual(waits, lines);
        for (const s of finding.sites) assert.equal(s.file, resolve(root, fixtures, buggy));
        assert.deepEqual(
          finding.resources.map((r) => r.kind),
          [kind, kind],
        );
        assert.match(stderr, /stopped the program because it is deadlocked/);
        assert.equal(code, 1);
      },
    );
    test(`${fixed}: clean`, { skip }, async () => {
      const { code, stdout, report } = await run(fixed);
      assert.deepEqual(
        report.findings.filter((f) => f.kind !== 'long-hold').map((f) => f.title),
        [],
      );
      // The locks were observed: a contended acquisition of the first one.
      assert.ok(
        report.stats.resources.some((r) => r.kind === kind && r.contended > 0),
        stdout,
      );
      assert.equal(code, 0);
    });
  }
});

test('async-mutex runExclusive: the callback acts as the flow that called it', async () => {
  const { code, report } = await run('async-mutex-run-exclusive.cjs');
  const { finding, waits } = deadlock(report);
  assert.equal(finding.severity, 'error');
  assert.deepEqual(waits, { 'transfer #1': 14, 'transfer #2': 14 });
  assert.equal(code, 1);
});

describe('waits that may give up', { concurrency: 2 }, () => {
  for (const fixture of ['async-mutex-bounded.cjs', 'async-mutex-bounded.mjs']) {
    test(`${fixture}: withTimeout and tryAcquire are bounded waits, a cycle through them a warning`, async () => {
      const { code, report } = await run(fixture);
      const findings = report.findings.filter((f) => f.kind !== 'long-hold');
      assert.deepEqual(
        findings.map((f) => `${f.kind}/${f.pattern ?? ''}/${f.severity}`),
        ['deadlock/timed-out/warning'],
      );
      assert.ok(findings[0]!.sites.some((s) => s.act === 'waits'));
      assert.deepEqual(report.stats.resources.map((r) => `${r.kind}:${r.acquisitions}`).sort(), [
        'mutex:1',
        'mutex:1',
        'semaphore:2',
      ]);
      assert.equal(code, 0);
    });
  }
});

async function traced(
  fixture: string,
  options: { env?: Record<string, string> } = {},
): Promise<{ out: Outcome; trace: Message[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'lockscope-adapters-'));
  try {
    const file = join(dir, 'trace.jsonl');
    const out = await node(['--import', register, `${fixtures}/${fixture}`], {
      LOCKSCOPE_TRACE: file,
      ...options.env,
    });
    return { out, trace: readTrace(file) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('what the adapters record', { concurrency: 2 }, () => {
  test('async-lock: waits that time out, in callback and promise mode; a flow per acquisition', async () => {
    const { out, trace } = await traced('async-lock-timeout.cjs');
    assert.equal(out.code, 0, out.stderr);
    assert.match(
      out.stdout,
      /callback waiter: timed out[\s\S]*promise waiter: timed out[\s\S]*late: got k/,
    );
    assert.deepEqual(opsOn(trace, 'mutex'), [
      '1 acquired',
      '2 request-bounded',
      '3 request-bounded',
      '2 timeout',
      '3 timeout',
      '1 released',
      '4 acquired',
      '4 released',
    ]);
  });

  test('async-lock: work queued by key without waiting for it is clean', async () => {
    const { code, report } = await run('async-lock-queue.cjs');
    assert.deepEqual(
      report.findings.filter((f) => f.kind !== 'long-hold').map((f) => f.title),
      [],
    );
    assert.deepEqual(
      report.stats.resources.map((r) => `${r.name}:${r.acquisitions}:${r.contended}`),
      ['async-lock "queue":3:2'],
    );
    assert.equal(code, 0);
  });

  test(
    'Web Locks: ifAvailable is a try-lock, and a request made while held waits',
    { skip: noWebLocks },
    async () => {
      const { out, trace } = await traced('web-locks-try.mjs');
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /try: x is taken[\s\S]*waiter: got x/);
      assert.deepEqual(opsOn(trace, 'mutex'), [
        '1 acquired',
        '1 try-failed',
        '2 request',
        '1 released',
        '2 acquired',
        '2 released',
      ]);
    },
  );
});

describe('orders that could deadlock', () => {
  test('async-lock keys taken in both orders, one flow after the other: an inversion', async () => {
    const { code, report } = await run('async-lock-inversion.cjs');
    const findings = report.findings.filter((f) => f.kind !== 'long-hold');
    assert.deepEqual(
      findings.map((f) => `${f.kind}/${f.severity}`),
      ['lock-order-inversion/warning'],
    );
    // One lock per key, though nobody used either between the two flows.
    assert.deepEqual(findings[0]!.resources.map((r) => r.name).sort(), [
      'async-lock "accounts"',
      'async-lock "audit"',
    ]);
    assert.deepEqual(
      findings[0]!.sites.map((s) => s.line).sort((x, y) => x - y),
      [11, 12, 17, 18],
    );
    assert.equal(code, 0);
  });
});

describe('node --import lockscope/register', { concurrency: 2 }, () => {
  test('with no sink, register tracks identity only once needed; code that suspended before is uncertain', async () => {
    const flows = async (env: Record<string, string>): Promise<unknown> => {
      const out = await node(['--import', register, `${fixtures}/late-identity.mjs`], env);
      assert.equal(out.code, 0, out.stderr);
      return JSON.parse(out.stdout) as unknown;
    };
    const late = [
      { name: 'early #1', uncertain: true },
      { name: 'later #1', uncertain: false },
      { name: 'main', uncertain: false },
    ];
    assert.deepEqual(await flows({ LOCKSCOPE_TRACE: '', LOCKSCOPE_ENDPOINT: '' }), late);
    // With fail-fast on, identity is tracked from the start, and `early` is known.
    const known = late.map((f) => ({ ...f, uncertain: false }));
    assert.deepEqual(
      await flows({ LOCKSCOPE_TRACE: '', LOCKSCOPE_ENDPOINT: '', LOCKSCOPE_FAIL_FAST: '1' }),
      known,
    );
  });

  test('with no sink, flows resumed in the checkpoint where tracking began are all uncertain', async () => {
    const out = await node(['--import', register, `${fixtures}/late-identity-checkpoint.mjs`], {
      LOCKSCOPE_TRACE: '',
      LOCKSCOPE_ENDPOINT: '',
    });
    assert.equal(out.code, 0, out.stderr);
    const flows = JSON.parse(out.stdout) as { name: string; uncertain: boolean }[];
    assert.ok(flows.length >= 2, out.stdout);
    // Which of them the probe splits or joins is not the point: none may come out certain.
    assert.deepEqual(
      flows.filter((f) => !f.uncertain),
      [],
    );
  });

  test('records the waits, grants and releases of an unmodified async-mutex program', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockscope-adapters-'));
    try {
      const trace = join(dir, 'trace.jsonl');
      const out = await node(['--import', register, `${fixtures}/async-mutex-fixed.mjs`], {
        LOCKSCOPE_TRACE: trace,
      });
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /done/);
      const messages = readTrace(trace);
      const mutexes = new Set(
        messages
          .filter((m) => m.t === 'resource' && m.kind === 'mutex')
          .map((m) => (m as { id: number }).id),
      );
      assert.equal(mutexes.size, 2);
      const ops = events(messages)
        .filter((e) => mutexes.has(e.res!))
        .map((e) => e.op);
      // Two flows take both locks: four grants and four releases, one of them after a wait.
      assert.equal(ops.filter((o) => o === 'acquired').length, 4);
      assert.equal(ops.filter((o) => o === 'released').length, 4);
      assert.equal(ops.filter((o) => o === 'request').length, 1);
      const flows = new Set(
        events(messages)
          .filter((e) => mutexes.has(e.res!))
          .map((e) => e.task),
      );
      assert.equal(flows.size, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a version outside the range is said once and left unpatched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockscope-adapters-'));
    try {
      const pkg = join(dir, 'node_modules', 'async-mutex');
      cpSync(join(root, 'node_modules', 'async-mutex'), pkg, { recursive: true });
      cpSync(join(root, 'node_modules', 'tslib'), join(dir, 'node_modules', 'tslib'), {
        recursive: true,
      });
      const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as {
        version: string;
      };
      manifest.version = '0.6.0';
      writeFileSync(join(pkg, 'package.json'), JSON.stringify(manifest));
      for (const f of ['async-mutex-fixed.mjs', 'async-mutex-fixed.cjs'])
        cpSync(join(root, fixtures, f), join(dir, f));
      const trace = join(dir, 'trace.jsonl');
      for (const f of ['async-mutex-fixed.mjs', 'async-mutex-fixed.cjs']) {
        const out = await node(['--import', register, f], { LOCKSCOPE_TRACE: trace }, dir);
        assert.equal(out.code, 0, out.stderr);
        const said = out.stderr.split('\n').filter((l) => l.includes('async-mutex 0.6.0'));
        assert.deepEqual(said, [
          'lockscope: async-mutex 0.6.0 is not supported by its adapter (supported: >=0.5.0 <0.6.0); it runs unobserved. LOCKSCOPE_ADAPTERS=-async-mutex silences this.',
        ]);
        assert.equal(readTrace(trace).filter((m) => m.t === 'resource').length, 0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('LOCKSCOPE_ADAPTERS turns an adapter off, and an unknown name is said once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockscope-adapters-'));
    try {
      const trace = join(dir, 'trace.jsonl');
      const off = await node(['--import', register, `${fixtures}/async-mutex-fixed.cjs`], {
        LOCKSCOPE_TRACE: trace,
        LOCKSCOPE_ADAPTERS: '-async-mutex,-nonsense',
      });
      assert.equal(off.code, 0, off.stderr);
      assert.equal(readTrace(trace).filter((m) => m.t === 'resource').length, 0);
      assert.equal(off.stderr.match(/unknown adapter "nonsense"/g)?.length, 1);
      const on = await node(['--import', register, `${fixtures}/async-lock-fixed.cjs`], {
        LOCKSCOPE_TRACE: trace,
        LOCKSCOPE_ADAPTERS: '-async-mutex',
      });
      assert.equal(on.code, 0, on.stderr);
      assert.equal(readTrace(trace).filter((m) => m.t === 'resource').length, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
