// The pg adapter against a real PostgreSQL server (test/servers.ts) and the real `pg` package:
// unmodified programs (test/fixtures/pg/) whose parent starts two child processes that deadlock
// over advisory locks or rows, under `lockscope run` (which stops the program at the deadlock)
// and `lockscope collect` (which lets PostgreSQL break it with 40P01). Skipped, with the reason,
// where PostgreSQL is not installed.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import pg from 'pg';
import type { Finding, Report } from '../../runtime-probe/src/analysis/types.js';
import { serverProblem, startPostgres, type TestServer } from '../servers.js';
import { Collect } from './collect-process.js';
import { node, readTrace, type Outcome } from './run-program.js';

const root = resolve(import.meta.dirname, '../..');
const cli = resolve(root, 'runtime-probe/dist/cli.cjs');
const register = resolve(root, 'runtime-probe/dist/register.mjs');
const fixtures = resolve(root, 'test/fixtures/pg');
const skip = serverProblem('postgres') ?? false;

/** The environment that points an unmodified pg program at `server` (pg reads PG* variables). */
function pgEnv(server: TestServer): Record<string, string> {
  return {
    PGHOST: '127.0.0.1',
    PGPORT: String(server.port),
    PGUSER: 'postgres',
    PGDATABASE: 'postgres',
  };
}

async function run(
  server: TestServer,
  fixture: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<Outcome & { report: Report }> {
  const out = await node([cli, 'run', '--json', join(fixtures, fixture), ...args], {
    ...pgEnv(server),
    ...env,
  });
  return { ...out, report: JSON.parse(out.stdout) as Report };
}

/**
 * Ends the sessions a stopped program left in the server. A backend blocked in a lock wait does
 * not notice that its client is gone until the wait ends: the two sessions of a deadlock that
 * `lockscope run` stopped would hold their locks until deadlock_timeout, and the next test's
 * children would wait for them.
 */
async function endLeftSessions(server: TestServer): Promise<void> {
  const client = new pg.Client(pgEnvConfig(server));
  await client.connect();
  try {
    await client.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
    );
    for (;;) {
      const { rows } = await client.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
      );
      if (rows[0]?.n === '0') return;
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await client.end();
  }
}

function pgEnvConfig(server: TestServer): pg.ClientConfig {
  return { host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' };
}

/** The line of `fixture` that carries `marker` (a comment at the end of a query's line). */
function lineOf(fixture: string, marker: string): number {
  const lines = readFileSync(join(fixtures, fixture), 'utf8').split('\n');
  const at = lines.findIndex((l) => l.includes(marker));
  assert.ok(at >= 0, `${marker} is not in ${fixture}`);
  return at + 1;
}

/** The report's processes started by the program's parent: its two children. */
function childPids(report: Report): number[] {
  const parent = report.processes.find((p) => p.script?.endsWith('-parent.mjs'));
  assert.ok(parent, JSON.stringify(report.processes));
  return report.processes
    .filter((p) => p !== parent)
    .map((p) => p.pid)
    .sort();
}

/** One cross-process deadlock between the two children, waiting at `line` of `file`. */
function assertCrossProcessDeadlock(report: Report, file: string, line: number): Finding {
  const found = report.findings.filter((f) => f.kind === 'deadlock');
  assert.equal(found.length, 1, JSON.stringify(report.findings.map((f) => f.title)));
  const f = found[0]!;
  assert.equal(f.severity, 'error');
  assert.equal(f.certainty, 'exact');
  const pids = f.tasks.map((t) => t.pid).sort();
  assert.deepEqual(pids, childPids(report));
  const sites = f.sites.filter((s) => s.act === 'waits');
  assert.deepEqual(
    sites.map((s) => [s.file, s.line]),
    [
      [join(fixtures, file), line],
      [join(fixtures, file), line],
    ],
  );
  return f;
}

describe('pg: PostgreSQL locks across processes', { skip, concurrency: false }, () => {
  let server: TestServer;
  before(async () => {
    server = await startPostgres({ deadlock_timeout: '60s' });
  });
  afterEach(async () => {
    await endLeftSessions(server);
  });
  after(async () => {
    await server?.stop();
  });

  test('two processes take two advisory locks in opposite orders: one deadlock, both lines', async () => {
    const { code, stderr, report } = await run(server, 'advisory-parent.mjs', ['abba'], {
      // The second child reaches the server through its Unix socket: another name, one server.
      OTHER_PGHOST: server.folder,
    });
    const f = assertCrossProcessDeadlock(
      report,
      'advisory-child.mjs',
      lineOf('advisory-child.mjs', '// second lock'),
    );
    // Where each child holds its first lock.
    const first = lineOf('advisory-child.mjs', '// first lock');
    assert.deepEqual(
      f.sites.filter((s) => s.act === 'acquired').map((s) => s.line),
      [first, first],
    );
    assert.deepEqual(f.resources.map((r) => r.name).sort(), [
      'pg advisory lock 1',
      'pg advisory lock 2',
    ]);
    // One resource per lock across the two names: from the server's system identifier.
    assert.doesNotMatch(stderr, /system identifier/);
    // Found while both still waited: PostgreSQL (deadlock_timeout 60 s) never broke it.
    assert.doesNotMatch(stderr, /failed with/);
    assert.match(stderr, /stopped the program because it is deadlocked/);
    assert.equal(code, 1);
  });

  test('the same locks in the same order: clean', async () => {
    const { code, stderr, report } = await run(server, 'advisory-parent.mjs', ['fixed']);
    assert.deepEqual(
      report.findings.map((f) => f.title),
      [],
    );
    // The locks were observed: the second child waited for the first lock.
    const lock = report.resources.find((r) => r.name === 'pg advisory lock 1');
    assert.ok(lock, JSON.stringify(report.resources));
    assert.equal(code, 0, stderr);
  });

  test('a row-lock deadlock between two processes: a finding at both UPDATE lines', async () => {
    const { code, stderr, report } = await run(server, 'rows-parent.mjs');
    const f = assertCrossProcessDeadlock(
      report,
      'rows-child.mjs',
      lineOf('rows-child.mjs', '// second row'),
    );
    assert.ok(f.resources.every((r) => r.name.startsWith('pg transaction ')));
    assert.doesNotMatch(stderr, /failed with/);
    assert.equal(code, 1);
  });

  test('a pg_try_advisory_lock that fails is not a wait', async () => {
    const { code, stderr, report } = await run(server, 'advisory-parent.mjs', ['try']);
    assert.match(stderr, /child-0 got its second lock: false/);
    assert.match(stderr, /child-1 got its second lock: false/);
    assert.deepEqual(
      report.findings.map((f) => f.title),
      [],
    );
    assert.deepEqual(report.resources.map((r) => r.name).sort(), [
      'pg advisory lock 1',
      'pg advisory lock 2',
    ]);
    assert.equal(code, 0, stderr);
  });

  test('a session that holds a lock shared and waits for it exclusive waits for the others only', async () => {
    const { code, stderr, report } = await run(server, 'shared-then-exclusive.mjs');
    assert.deepEqual(
      report.findings.map((f) => `${f.kind}/${f.severity}/${f.certainty}`),
      [],
      stderr,
    );
    assert.equal(code, 0, stderr);
  });

  test('a lock on a client several flows share: its holder is a guess, never an exact error', async () => {
    const { stderr, report } = await run(server, 'shared-client.mjs');
    const errors = report.findings.filter((f) => f.severity === 'error');
    assert.deepEqual(errors, [], stderr);
    assert.doesNotMatch(stderr, /stopped the program/);
    assert.match(stderr, /done/);
  });

  test('LOCKSCOPE_ADAPTERS=-pg leaves pg unobserved', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockscope-pg-'));
    try {
      const trace = join(dir, 'trace.jsonl');
      const env = { ...pgEnv(server), LOCKSCOPE_TRACE: trace };
      const program = join(fixtures, 'one-lock.mjs');
      const on = await node(['--import', register, program], env);
      assert.equal(on.code, 0, on.stderr);
      assert.equal(readTrace(trace).filter((m) => m.t === 'resource').length, 1);
      const off = await node(['--import', register, program], {
        ...env,
        LOCKSCOPE_ADAPTERS: '-pg',
      });
      assert.equal(off.code, 0, off.stderr);
      assert.equal(readTrace(trace).filter((m) => m.t === 'resource').length, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a version outside the range is said once and left unpatched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockscope-pg-'));
    try {
      const pkg = join(dir, 'node_modules', 'pg');
      cpSync(join(root, 'node_modules', 'pg'), pkg, { recursive: true });
      const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as {
        version: string;
      };
      manifest.version = '9.0.0';
      writeFileSync(join(pkg, 'package.json'), JSON.stringify(manifest));
      const program = join(dir, 'program.mjs');
      cpSync(join(fixtures, 'one-lock.mjs'), program);
      const trace = join(dir, 'trace.jsonl');
      // pg's own dependencies are found beside this repository's copy.
      const out = await node(
        ['--import', register, program],
        { ...pgEnv(server), LOCKSCOPE_TRACE: trace, NODE_PATH: join(root, 'node_modules') },
        dir,
      );
      assert.equal(out.code, 0, out.stderr);
      const said = out.stderr.split('\n').filter((l) => l.includes('pg 9.0.0'));
      assert.deepEqual(said, [
        'lockscope: pg 9.0.0 is not supported by its adapter (supported: >=8.23.0 <9.0.0); it runs unobserved. LOCKSCOPE_ADAPTERS=-pg silences this.',
      ]);
      assert.equal(readTrace(trace).filter((m) => m.t === 'resource').length, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Runs the opposite-order fixture under `lockscope collect`, which does not stop the program at
 * a deadlock, so that PostgreSQL breaks it, and returns the deadlock findings of its report.
 */
async function brokenByPostgres(server: TestServer, started: Collect[]): Promise<Finding[]> {
  const c = new Collect(['--json']);
  started.push(c);
  const env = await c.env();
  const program = await node([join(fixtures, 'advisory-parent.mjs'), 'abba'], {
    ...pgEnv(server),
    ...env,
    NODE_OPTIONS: `--import ${register}`,
  });
  assert.match(program.stderr, /child-\d failed with 40P01/);
  assert.equal(program.stderr.match(/failed with/g)?.length, 1, program.stderr);
  c.child.kill('SIGINT');
  await c.exited;
  const report = JSON.parse(c.stdout) as Report;
  const line = lineOf('advisory-child.mjs', '// second lock');
  const found = report.findings.filter((f) => f.kind === 'deadlock');
  for (const f of found) {
    assert.deepEqual(
      f.sites.filter((s) => s.act === 'waits').map((s) => s.line),
      [line, line],
    );
    assert.deepEqual(f.tasks.map((t) => t.pid).sort(), childPids(report));
  }
  // The wait PostgreSQL refused is the averted deadlock: a warning, since the program goes on.
  assert.ok(
    found.some((f) => f.title.startsWith('Deadlock averted') && f.severity === 'warning'),
    JSON.stringify(report.findings.map((f) => f.title)),
  );
  return found;
}

// 5 s: a cycle across processes is confirmed once each has told of the time it formed, at its
// next heartbeat (every second); PostgreSQL breaks it later. 10 ms: before any poll sees it.
for (const timeout of ['5s', '10ms']) {
  describe(
    `pg: a deadlock PostgreSQL breaks itself (40P01, deadlock_timeout ${timeout})`,
    { skip },
    () => {
      let server: TestServer;
      const started: Collect[] = [];
      before(async () => {
        server = await startPostgres({ deadlock_timeout: timeout });
      });
      after(async () => {
        for (const c of started) c.child.kill('SIGKILL');
        await server?.stop();
      });

      if (timeout === '5s') {
        test('seen by the polls first: the deadlock, then the averted one, at both lines', async () => {
          const found = await brokenByPostgres(server, started);
          assert.ok(
            found.some((f) => f.severity === 'error' && f.certainty === 'exact'),
            JSON.stringify(found.map((f) => f.title)),
          );
        });
      } else {
        test('broken before the first poll: still a finding at both lines, a warning', async () => {
          const found = await brokenByPostgres(server, started);
          // The refused wait was inferred from the server, never an error.
          assert.ok(found.every((f) => f.severity === 'warning'));
        });
      }
    },
  );
}
