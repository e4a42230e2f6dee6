// Redis locks between processes: unmodified programs that use redlock (over ioredis), against a
// private Redis server (test/servers.ts), under `lockscope run` and `node --import
// lockscope/register`. Where redis-server is missing the tests are skipped with the reason.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import type { Report } from '../../runtime-probe/src/analysis/types.js';
import type { Message } from '../../runtime-probe/src/protocol.js';
import { serverProblem, startRedis, type TestServer } from '../servers.js';
import { node, opsOn, readTrace, type Outcome } from './run-program.js';

const root = resolve(import.meta.dirname, '../..');
const cli = resolve(root, 'runtime-probe/dist/cli.cjs');
const register = resolve(root, 'runtime-probe/dist/register.mjs');
const fixtures = resolve(root, 'test/fixtures/redis');
const skip = serverProblem('redis') ?? false;

/** Runs `body` with a private Redis server of its own, stopped however `body` ends. */
async function withRedis(body: (redis: TestServer) => Promise<void>): Promise<void> {
  const redis = await startRedis();
  try {
    await body(redis);
  } finally {
    await redis.stop();
  }
}

/**
 * `services.cjs`, which starts `service` twice (`north` and `south`), under `lockscope run
 * --json`. The deadlocked services retry for about 60 s, so a run that ends is one the
 * `--timeout` (well short of that) stopped.
 */
async function services(
  redis: TestServer,
  service: string,
  env: Record<string, string> = {},
): Promise<Outcome & { report: Report }> {
  const out = await node(
    [cli, 'run', '--json', '--timeout', '10', join(fixtures, 'services.cjs'), '--', service],
    { REDIS_PORT: String(redis.port), ...env },
  );
  return { ...out, report: JSON.parse(out.stdout) as Report };
}

describe('two services over two Redis locks', { skip, concurrency: 2 }, () => {
  test('taken in opposite orders: one deadlock across the two processes, at both lines', () =>
    withRedis(async (redis) => {
      const { stderr, report } = await services(redis, 'stock-abba.cjs');
      const findings = report.findings.filter((f) => f.kind !== 'long-hold');
      assert.deepEqual(
        findings.map((f) => `${f.kind}/${f.pattern ?? ''}/${f.severity}/${f.certainty}`),
        // redlock gives up after its retries, so the cycle is one that may break by itself.
        ['deadlock/bounded/warning/exact'],
        stderr,
      );
      const finding = findings[0]!;
      // Found while both still waited: neither ran out of retries.
      assert.doesNotMatch(stderr, /gave up/);
      const children = report.processes.filter((p) => p.script?.endsWith('stock-abba.cjs'));
      assert.equal(children.length, 2);
      assert.deepEqual(finding.tasks.map((t) => t.pid).sort(), children.map((p) => p.pid).sort());
      assert.deepEqual(finding.resources.map((r) => r.name).sort(), [
        'redis "north"',
        'redis "south"',
      ]);
      // Each service's own lines: where it took its first lock and where it waits for its second.
      const sites = finding.sites.map((s) => `${s.act} ${s.line}`).sort();
      assert.deepEqual(sites, ['acquired 27', 'acquired 35', 'waits 29', 'waits 37']);
      for (const s of finding.sites) assert.equal(s.file, join(fixtures, 'stock-abba.cjs'));
    }));

  test('retrying forever: still a warning, since the locks expire at their time-to-live', () =>
    withRedis(async (redis) => {
      const { stderr, report } = await services(redis, 'stock-abba.cjs', {
        REDLOCK_RETRY_FOREVER: '1',
      });
      const findings = report.findings.filter((f) => f.kind !== 'long-hold');
      assert.deepEqual(
        findings.map((f) => `${f.kind}/${f.pattern ?? ''}/${f.severity}/${f.certainty}`),
        ['deadlock/bounded/warning/exact'],
        stderr,
      );
      assert.deepEqual(findings[0]!.sites.map((s) => `${s.act} ${s.line}`).sort(), [
        'acquired 27',
        'acquired 35',
        'waits 29',
        'waits 37',
      ]);
      // Not stopped for it: the run ends at its --timeout.
      assert.doesNotMatch(stderr, /stopped the program because it is deadlocked/);
    }));

  test('taken in one order: clean', () =>
    withRedis(async (redis) => {
      const { code, stderr, report } = await services(redis, 'stock-fixed.cjs');
      assert.deepEqual(
        report.findings.map((f) => f.title),
        [],
        stderr,
      );
      assert.equal(code, 0, stderr);
      // Both locks of both services were observed.
      assert.deepEqual(report.stats.resources.map((r) => r.name).sort(), [
        'redis "north"',
        'redis "south"',
      ]);
      assert.equal(
        report.stats.resources.reduce((n, r) => n + r.acquisitions, 0),
        4,
      );
    }));
});

describe('what the redlock adapter records', { skip, concurrency: 2 }, () => {
  test('acquired and released; a refused attempt starts a wait, granted or given up', () =>
    withRedis(async (redis) => {
      const dir = mkdtempSync(join(tmpdir(), 'lockscope-redlock-'));
      try {
        const file = join(dir, 'trace.jsonl');
        const out = await node(['--import', register, join(fixtures, 'redlock-waits.mjs')], {
          REDIS_PORT: String(redis.port),
          LOCKSCOPE_TRACE: file,
        });
        assert.equal(out.code, 0, out.stderr);
        assert.equal(out.stdout, 'waited: got orders\ngave up: true\ntry: true\n');
        const trace = readTrace(file);
        // main is 1; the two holders, each a timer's callback, 2 and 3.
        assert.deepEqual(opsOn(trace, 'mutex'), [
          // Free: in callback mode, then with promises.
          '1 acquired',
          '1 released',
          '1 acquired',
          '1 released',
          // Busy: refused, then granted on a retry once the holder let go.
          '2 acquired',
          '2 released',
          '1 request-bounded',
          '1 acquired',
          '1 released',
          // Busy past the retries: the wait ends as a timeout.
          '3 acquired',
          '1 request-bounded',
          '1 timeout',
          // Without retries: a try-lock.
          '1 try-failed',
          '3 released',
          '1 try-acquired',
          '1 released',
        ]);
        // One lock, one resource, named by its key, and one key across the servers' processes.
        const resources = trace.filter((m) => m.t === 'resource');
        assert.deepEqual(
          resources.map((m) => m.name),
          ['redis "orders"'],
        );
        assert.match(
          (resources[0] as { global?: string }).global ?? '',
          /^redis:[0-9a-f]{40}\/0:orders$/,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }));

  test('a wait that gives up after its retries is a timed-out wait, not a deadlock', () =>
    withRedis(async (redis) => {
      const out = await node([cli, 'run', '--json', join(fixtures, 'redlock-waits.mjs')], {
        REDIS_PORT: String(redis.port),
      });
      const report = JSON.parse(out.stdout) as Report;
      assert.deepEqual(
        report.findings.filter((f) => f.kind !== 'long-hold').map((f) => f.title),
        [],
      );
      assert.deepEqual(
        report.stats.resources.map((r) => `${r.name}:${r.acquisitions}:${r.contended}`),
        ['redis "orders":6:1'],
      );
      assert.equal(out.code, 0, out.stderr);
    }));
});

describe('a lock that expired by its time-to-live', { skip }, () => {
  test('is no longer held: asking for it again while another flow holds it is no self-deadlock', () =>
    withRedis(async (redis) => {
      const out = await node([cli, 'run', '--json', join(fixtures, 'expired-hold.mjs')], {
        REDIS_PORT: String(redis.port),
      });
      const report = JSON.parse(out.stdout) as Report;
      assert.deepEqual(
        report.findings.map((f) => `${f.kind}/${f.severity}/${f.certainty}`),
        [],
        out.stderr,
      );
      assert.equal(out.code, 0, out.stderr);
    }));
});

describe('redlock versions', () => {
  test('a version outside the range is said once and left unpatched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockscope-redlock-'));
    try {
      for (const name of ['redlock', 'bluebird'])
        cpSync(join(root, 'node_modules', name), join(dir, 'node_modules', name), {
          recursive: true,
        });
      cpSync(join(fixtures, 'redlock-version.cjs'), join(dir, 'redlock-version.cjs'));
      const trace = join(dir, 'trace.jsonl');
      const observed = async (): Promise<Message[]> => {
        const out = await node(
          ['--import', register, 'redlock-version.cjs'],
          { LOCKSCOPE_TRACE: trace },
          dir,
        );
        assert.equal(out.code, 0, out.stderr);
        assert.equal(out.stdout, 'locked and unlocked\n');
        return readTrace(trace);
      };
      // In the range, the stand-in server's lock is observed: the fixture can tell.
      assert.deepEqual(opsOn(await observed(), 'mutex'), ['1 try-acquired', '1 released']);

      const manifest = join(dir, 'node_modules', 'redlock', 'package.json');
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
      pkg.version = '5.0.0';
      writeFileSync(manifest, JSON.stringify(pkg));
      const out = await node(
        ['--import', register, 'redlock-version.cjs'],
        { LOCKSCOPE_TRACE: trace },
        dir,
      );
      assert.equal(out.code, 0, out.stderr);
      assert.deepEqual(
        out.stderr.split('\n').filter((l) => l.includes('redlock 5.0.0')),
        [
          'lockscope: redlock 5.0.0 is not supported by its adapter (supported: >=4.2.0 <5.0.0); it runs unobserved. LOCKSCOPE_ADAPTERS=-redlock silences this.',
        ],
      );
      assert.equal(readTrace(trace).filter((m) => m.t === 'resource').length, 0);

      // Turned off, it is not even looked at.
      const off = await node(
        ['--import', register, 'redlock-version.cjs'],
        { LOCKSCOPE_TRACE: trace, LOCKSCOPE_ADAPTERS: '-redlock' },
        dir,
      );
      assert.equal(off.code, 0, off.stderr);
      assert.doesNotMatch(off.stderr, /redlock/);
      assert.equal(readTrace(trace).filter((m) => m.t === 'resource').length, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
