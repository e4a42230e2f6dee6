// The extension's session on plain Node, as Run File uses it, with two services that deadlock
// over locks a real server keeps: Redis (through redlock) and PostgreSQL advisory locks (through
// pg). Each is one deadlock across the two processes, with both services' lines, found while
// both still wait. Skipped with the reason where the server is not installed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Finding } from '../../runtime-probe/src/analysis/types.js';
import { Session } from '../../extension/src/session.js';
import { serverProblem, startPostgres, startRedis, type TestServer } from '../servers.js';
import { NODE } from './run-program.js';

const root = resolve(import.meta.dirname, '../..');
const guard = {
  timeout: 120_000,
  skip: process.platform === 'win32' ? 'Unix sockets only' : false,
};

/** Waits until `check` holds, polling; a guard against a hang, not a timing assertion. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

interface Services {
  /** The parent program and its arguments; it starts the two services. */
  args: string[];
  env: Record<string, string>;
  /** The file both services run, whose lines the finding must name. */
  service: string;
}

/**
 * Runs the services in a session, as Run File does (the probe in NODE_OPTIONS, so the services
 * the parent starts report too), waits for a deadlock, and returns it with what the services
 * said on stderr so far and the pids of the processes that run `service`.
 */
async function deadlockOf(
  run: Services,
): Promise<{ finding: Finding; said: string; pids: number[] }> {
  const session = await Session.start({}, { updateMs: 10 });
  const probe = `--import ${pathToFileURL(join(root, 'runtime-probe', 'dist', 'register.mjs')).href}`;
  const program = spawn(NODE, run.args, {
    env: {
      ...process.env,
      ...session.env(),
      ...run.env,
      NODE_OPTIONS: probe,
      LOCKSCOPE_NODE_OPTIONS: probe,
    },
    // A group of its own, so that the services (which wait for a minute) end with it.
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let said = '';
  program.stderr.setEncoding('utf8').on('data', (d: string) => (said += d));
  const exited = once(program, 'exit');
  try {
    const deadlock = (): Finding | undefined =>
      session.analyzer.findings.find((f) => f.kind === 'deadlock');
    await until(() => deadlock() !== undefined);
    const pids = session.analyzer
      .state()
      .processes.filter((p) => p.script?.endsWith(run.service))
      .map((p) => p.pid)
      .sort();
    return { finding: deadlock()!, said, pids };
  } finally {
    process.kill(-program.pid!, 'SIGKILL');
    await exited;
    await session.close();
  }
}

describe(
  'session: two services deadlocked over Redis locks',
  {
    ...guard,
    skip: guard.skip || serverProblem('redis') || false,
  },
  () => {
    test("one deadlock across the two processes, with both services' lines", async () => {
      const fixtures = join(root, 'test', 'fixtures', 'redis');
      const redis = await startRedis();
      try {
        const { finding, said, pids } = await deadlockOf({
          args: [join(fixtures, 'services.cjs'), 'stock-abba.cjs'],
          env: { REDIS_PORT: String(redis.port) },
          service: 'stock-abba.cjs',
        });
        // Found while both services still wait: neither has run out of retries.
        assert.doesNotMatch(said, /gave up/);
        assert.equal(pids.length, 2);
        assert.deepEqual(finding.tasks.map((t) => t.pid).sort(), pids);
        assert.deepEqual(finding.sites.map((site) => `${site.act} ${site.line}`).sort(), [
          'acquired 27',
          'acquired 35',
          'waits 29',
          'waits 37',
        ]);
        for (const site of finding.sites) assert.equal(site.file, join(fixtures, 'stock-abba.cjs'));
      } finally {
        await redis.stop();
      }
    });
  },
);

describe(
  'session: two services deadlocked over PostgreSQL advisory locks',
  {
    ...guard,
    skip: guard.skip || serverProblem('postgres') || false,
  },
  () => {
    test("one deadlock across the two processes, with both services' lines", async () => {
      const fixtures = join(root, 'test', 'fixtures', 'pg');
      const server: TestServer = await startPostgres({ deadlock_timeout: '60s' });
      try {
        const { finding, said, pids } = await deadlockOf({
          args: [join(fixtures, 'advisory-parent.mjs'), 'abba'],
          env: {
            PGHOST: '127.0.0.1',
            PGPORT: String(server.port),
            PGUSER: 'postgres',
            PGDATABASE: 'postgres',
          },
          service: 'advisory-child.mjs',
        });
        // Found while both still wait: PostgreSQL's own detector (60 s) has refused neither.
        assert.doesNotMatch(said, /failed with/);
        assert.equal(pids.length, 2);
        assert.equal(finding.severity, 'error');
        assert.deepEqual(finding.tasks.map((t) => t.pid).sort(), pids);
        // Each waits at its second lock (line 17) for the lock the other took at line 10.
        assert.deepEqual(finding.sites.map((site) => `${site.act} ${site.line}`).sort(), [
          'acquired 10',
          'acquired 10',
          'waits 17',
          'waits 17',
        ]);
        const child = join(fixtures, 'advisory-child.mjs');
        for (const site of finding.sites) assert.equal(site.file, child);
      } finally {
        // The killed services' backends still wait in the server; stopping it ends them.
        await server.stop();
      }
    });
  },
);
