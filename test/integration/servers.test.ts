// The private Redis and PostgreSQL servers the distributed-lock tests run against: each starts on
// loopback with its data in a fresh folder (PostgreSQL as an unprivileged user), answers its
// client package, and is stopped with its folder removed when the test stops it and when the test
// process is killed outright.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';
import { serverProblem, startPostgres, startRedis, type TestServer } from '../servers.js';
import { NODE } from './run-program.js';

const root = resolve(import.meta.dirname, '../..');
const problem = serverProblem('redis') ?? serverProblem('postgres');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function refuses(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), done(false)));
    s.once('error', () => done(true));
  });
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    assert.ok(Date.now() < deadline, `not within 20 s: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('private servers for the tests', { skip: problem }, () => {
  test('Redis and PostgreSQL answer their clients, and stop without a trace', async () => {
    const [redis, postgres] = await Promise.all([
      startRedis(),
      startPostgres({ deadlock_timeout: '60s' }),
    ]);
    const stopped: TestServer[] = [];
    try {
      const r = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true });
      await r.connect();
      assert.equal(await r.set('lock', 'me', 'PX', 60_000, 'NX'), 'OK');
      assert.equal(await r.set('lock', 'you', 'PX', 60_000, 'NX'), null);
      r.disconnect();
      const client = new pg.Client({ host: '127.0.0.1', port: postgres.port, user: 'postgres' });
      await client.connect();
      const timeout = await client.query<{ deadlock_timeout: string }>('SHOW deadlock_timeout');
      assert.equal(timeout.rows[0]!.deadlock_timeout, '1min');
      await client.query('SELECT pg_advisory_lock(42)');
      const held = await client.query('SELECT 1 FROM pg_locks WHERE locktype = $1', ['advisory']);
      assert.equal(held.rowCount, 1);
      await client.end();
    } finally {
      for (const s of [redis, postgres]) {
        await s.stop();
        stopped.push(s);
      }
    }
    for (const s of stopped) {
      assert.equal(existsSync(s.folder), false, `${s.folder} is left`);
      assert.equal(await refuses(s.port), true, `port ${s.port} still answers`);
    }
  });

  test('a test process killed outright leaves no server and no folder', async () => {
    const child = spawn(
      NODE,
      ['--import', 'tsx', join(root, 'test', 'fixtures', 'start-servers.ts')],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const line = await new Promise<string>((done) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.includes('\n')) done(out.split('\n')[0]!);
      });
    });
    const servers = JSON.parse(line) as { folder: string; keeper: number; port: number }[];
    assert.equal(servers.length, 2);
    for (const s of servers) assert.ok(existsSync(s.folder) && alive(s.keeper));
    child.kill('SIGKILL');
    for (const s of servers) {
      await until(() => !alive(s.keeper), `keeper ${s.keeper} ends`);
      assert.equal(existsSync(s.folder), false, `${s.folder} is left`);
      assert.equal(await refuses(s.port), true, `port ${s.port} still answers`);
    }
  });
});
