/**
 * Private Redis and PostgreSQL servers for the tests: each on loopback, on a free port, with its
 * data in a fresh temporary folder, PostgreSQL as an unprivileged user (it refuses to run as
 * root). A keeper process (servers/keeper.mjs) stops each one and removes its folder when the
 * test asks, when the test process exits, and when it is killed. `npm test`'s set-up installs
 * Debian's `redis-server` and `postgresql`; where they are missing, `serverProblem` says why and
 * the tests that need them are skipped with that reason, never passed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestServer {
  readonly port: number;
  /** The folder that holds its data (and PostgreSQL's socket); gone once it has stopped. */
  readonly folder: string;
  /** The keeper's process id. */
  readonly pid: number;
  stop(): Promise<void>;
}

const KEEPER = join(import.meta.dirname, 'servers', 'keeper.mjs');
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const keeper of running) keeper.kill('SIGTERM');
});

/** Debian's PostgreSQL binaries, the newest version installed. */
function postgresBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] && join(base, versions[0], 'bin');
}

/** Why these tests cannot run here, or undefined when they can. */
export function serverProblem(kind: 'redis' | 'postgres'): string | undefined {
  if (process.platform !== 'linux') return 'private servers are started on Linux only';
  if (kind === 'redis' && !existsSync('/usr/bin/redis-server')) {
    return "redis-server is not installed (npm test installs Debian's redis-server as root)";
  }
  if (kind === 'postgres' && !postgresBin()) {
    return "PostgreSQL is not installed (npm test installs Debian's postgresql as root)";
  }
  return undefined;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  await new Promise<void>((r) => server.close(() => r()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

interface KeeperConfig {
  command: string;
  args: string[];
  /** The user the server runs as, when not this process's. */
  uid?: number;
  gid?: number;
  readyText: string;
  stopSignal: NodeJS.Signals;
  folder: string;
}

async function keep(config: KeeperConfig, port: number): Promise<TestServer> {
  const keeper = spawn(process.execPath, [KEEPER, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(keeper);
  let said = '';
  keeper.stderr.setEncoding('utf8').on('data', (d: string) => (said += d));
  const exited = new Promise<void>((done) => keeper.once('exit', () => done()));
  void exited.then(() => running.delete(keeper));
  await new Promise<void>((resolve, reject) => {
    keeper.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (d.includes('ready')) resolve();
    });
    void exited.then(() => reject(new Error(`${config.command} did not start: ${said}`)));
  });
  return {
    port,
    folder: config.folder,
    pid: keeper.pid!,
    stop: async () => {
      keeper.kill('SIGTERM');
      await exited;
    },
  };
}

export async function startRedis(): Promise<TestServer> {
  const folder = mkdtempSync(join(tmpdir(), 'lockscope-redis-'));
  const port = await freePort();
  return keep(
    {
      command: '/usr/bin/redis-server',
      args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      readyText: 'Ready to accept connections',
      stopSignal: 'SIGTERM',
      folder,
    },
    port,
  );
}

/** The user PostgreSQL runs as when the tests run as root: `nobody`, which owns nothing else. */
function unprivileged(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number =>
    Number(spawnSync('id', [flag, 'nobody'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * A PostgreSQL server with one database (`postgres`, user `postgres`, no password on loopback)
 * and `settings` given as `-c` options (`deadlock_timeout: '60s'`, say).
 */
export async function startPostgres(settings: Record<string, string> = {}): Promise<TestServer> {
  const bin = postgresBin()!;
  const folder = mkdtempSync(join(tmpdir(), 'lockscope-pg-'));
  const user = unprivileged();
  if (user) chownSync(folder, user.uid, user.gid);
  const data = join(folder, 'data');
  // As that user: initdb and postgres check whose process they are, not only the folder's owner.
  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync'],
    { encoding: 'utf8', ...user, cwd: folder },
  );
  if (init.status !== 0) {
    rmSync(folder, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.stderr}`);
  }
  const port = await freePort();
  const options = { fsync: 'off', ...settings };
  return keep(
    {
      command: join(bin, 'postgres'),
      args: [
        ...['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', folder],
        ...Object.entries(options).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
      ],
      ...user,
      readyText: 'database system is ready to accept connections',
      // Fast shutdown: ends the sessions and stops at once.
      stopSignal: 'SIGINT',
      folder,
    },
    port,
  );
}
