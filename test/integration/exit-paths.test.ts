// Every way `lockscope run` ends leaves nothing behind: not the program, not what the program
// started, not the collector's socket folder. The program (test/fixtures/grandchild.ts) starts a
// grandchild and says when both run; each test then ends the run one way, and checks that the
// CLI exited, that no process of the program's group runs, and that its TMPDIR holds no
// `lockscope-*` folder. Collectors' folders are also removed by the exit of the process that made
// them, and swept by the next collector when that process was killed.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { startCollector } from '../../runtime-probe/src/collector.js';
import { OWNER_FILE, parseOwner } from '../../runtime-probe/src/collector-folder.js';
import { procStat } from '../../runtime-probe/src/processes.js';
import { NODE } from './run-program.js';

const root = resolve(import.meta.dirname, '../..');
const bin = join(root, 'runtime-probe/bin/lockscope.cjs');
const posixOnly = {
  skip: process.platform === 'win32' ? 'process groups and socket folders' : false,
};
/** A guard against a hang, not a timing assertion. */
const guard = { timeout: 60_000 };

/** Every temporary folder a test made, removed at the end. */
const made: string[] = [];
/** The marks of every run: what a failed test left running is killed at the end, by pid. */
const marks: string[] = [];
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
  for (const pid of marks.flatMap(markedProcesses)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // It ended between the look and the kill.
    }
  }
});
function freshTmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lockscope-exit-'));
  made.push(dir);
  return dir;
}

/** The collectors' folders in `tmp`. */
function socketFolders(tmp: string): string[] {
  return readdirSync(tmp).filter((name) => name.startsWith('lockscope-'));
}

/** A process as it was seen running: its pid and, on Linux, its start time. */
interface Seen {
  pid: number;
  start: string | undefined;
}

function seen(pid: number): Seen {
  return { pid, start: procStat(pid)?.start };
}

/**
 * True while the process seen runs: it exists, is not a zombie waiting to be collected, and is
 * the same process (a pid handed out again has another start time).
 */
function running(p: Seen): boolean {
  try {
    process.kill(p.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  if (process.platform !== 'linux') return true;
  const stat = procStat(p.pid);
  return stat !== undefined && stat.state !== 'Z' && stat.start === p.start;
}

/** The running processes whose command line holds `mark` (Linux; none elsewhere). */
function markedProcesses(mark: string): number[] {
  if (process.platform !== 'linux') return [];
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(mark)) continue;
    } catch {
      continue;
    }
    const stat = procStat(Number(name));
    if (stat && stat.state !== 'Z') found.push(Number(name));
  }
  return found;
}

/**
 * Waits until `done` holds, looking again every few milliseconds: the kernel takes a moment to
 * end a killed process. The bound only keeps a broken run from hanging the suite.
 */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1500; i++) {
    if (done()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`still not true after a long wait: ${what}`);
}

interface Ready {
  pid: number;
  grandchild: number;
}

/** One `lockscope run` of the fixture, with a TMPDIR of its own. */
class Run {
  readonly tmp = freshTmp();
  /** On the program's and the grandchild's command lines, to find them whatever happens. */
  readonly mark = `exit-paths-${randomBytes(6).toString('hex')}`;
  readonly cli: ChildProcess;
  stdout = '';
  stderr = '';
  /** The program and its grandchild, once the program printed its ready line. */
  readonly ready: Promise<{ program: Seen; grandchild: Seen }>;
  readonly exited: Promise<number | null>;

  constructor(options: string[], how: 'wait' | 'exit' | 'deadlock', temper: 'meek' | 'stubborn') {
    marks.push(this.mark);
    this.cli = spawn(
      NODE,
      [bin, 'run', ...options, 'test/fixtures/grandchild.ts', '--', how, temper, this.mark],
      {
        cwd: root,
        env: { ...process.env, TMPDIR: this.tmp, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.exited = once(this.cli, 'exit').then(([code]) => code as number | null);
    this.cli.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.ready = new Promise((done, fail) => {
      this.cli.stdout!.setEncoding('utf8').on('data', (d: string) => {
        this.stdout += d;
        const line = this.stdout.split('\n').find((l) => l.startsWith('{"ready":true'));
        if (!line) return;
        const r = JSON.parse(line) as Ready;
        done({ program: seen(r.pid), grandchild: seen(r.grandchild) });
      });
      void this.exited.then(() =>
        fail(new Error(`lockscope exited before the program was ready:\n${this.stderr}`)),
      );
    });
  }

  /** Waits for the CLI to exit, then checks that nothing of the run is left. */
  async finished(processes: Seen[]): Promise<number | null> {
    const code = await this.exited;
    for (const p of processes) {
      await until(() => !running(p), `process ${p.pid} of the program's group ended`);
    }
    await until(
      () => markedProcesses(this.mark).length === 0,
      `no process of the run is left (${markedProcesses(this.mark).join(', ')})`,
    );
    assert.deepEqual(socketFolders(this.tmp), [], 'no socket folder is left');
    return code;
  }
}

const STOPS = [
  ['SIGTERM', /lockscope was asked to terminate \(SIGTERM\)/],
  ['SIGHUP', /the terminal of lockscope hung up \(SIGHUP\)/],
  ['SIGINT', /lockscope was interrupted \(SIGINT/],
] as const;

describe('lockscope run ends everything it started', { ...posixOnly, ...guard }, () => {
  for (const [signal, said] of STOPS) {
    for (const temper of ['meek', 'stubborn'] as const) {
      test(`${signal} to lockscope, ${temper} program and grandchild`, async () => {
        const run = new Run([], 'wait', temper);
        const { program, grandchild } = await run.ready;
        assert.ok(running(program) && running(grandchild));
        run.cli.kill(signal);
        // A stop reports what was observed: this program holds nothing and waits for nothing.
        assert.equal(await run.finished([program, grandchild]), 0, run.stderr);
        assert.match(run.stderr, new RegExp(`stopped the program because ${said.source}`));
        assert.match(run.stdout, /no findings/);
      });
    }
  }

  test('--timeout ends the program and its grandchild, even when they ignore SIGTERM', async () => {
    const run = new Run(['--timeout', '1'], 'wait', 'stubborn');
    // The timeout may come before the program is ready on a slow machine: then the marks on the
    // command lines still show that nothing of the run is left.
    const ready = await run.ready.catch(() => undefined);
    const processes = ready ? [ready.program, ready.grandchild] : [];
    assert.equal(await run.finished(processes), 0, run.stderr);
    assert.match(run.stderr, /stopped the program because the --timeout of 1 s passed/);
  });

  test('a deadlock stop ends the grandchild too', async () => {
    const run = new Run([], 'deadlock', 'stubborn');
    const { program, grandchild } = await run.ready;
    assert.equal(await run.finished([program, grandchild]), 1, run.stderr);
    assert.match(run.stderr, /stopped the program because it is deadlocked \(self-deadlock\)/);
    assert.match(run.stdout, /self-deadlock/);
  });

  test('what the program left running when it ended by itself is ended too', async () => {
    const run = new Run([], 'exit', 'stubborn');
    const { program, grandchild } = await run.ready;
    assert.equal(await run.finished([program, grandchild]), 0, run.stderr);
    assert.match(run.stderr, /the program exited with code 0/);
    assert.match(run.stderr, /ended the processes the program left running/);
  });
});

/** Runs the collector fixture to its end with `how`, in `tmp`; resolves with its endpoint. */
async function collectorProcess(
  tmp: string,
  how: 'wait' | 'exit' | 'throw',
): Promise<{ child: ChildProcess; endpoint: string }> {
  const child = spawn(NODE, ['--import', 'tsx', 'test/fixtures/collector-owner.ts', how], {
    cwd: root,
    env: { ...process.env, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  const endpoint = await new Promise<string>((done, fail) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{"endpoint"'));
      if (line) done((JSON.parse(line) as { endpoint: string }).endpoint);
    });
    child.once('exit', () => fail(new Error('the collector fixture printed no endpoint')));
  });
  return { child, endpoint };
}

describe("a collector's socket folder", { ...posixOnly, ...guard }, () => {
  for (const how of ['exit', 'throw'] as const) {
    test(`is removed when the process that made it ends by ${how}`, async () => {
      const tmp = freshTmp();
      const { child, endpoint } = await collectorProcess(tmp, how);
      await once(child, 'exit');
      assert.equal(existsSync(dirname(endpoint)), false);
      assert.deepEqual(socketFolders(tmp), []);
    });
  }

  test('is swept by the next collector once its owner is gone, and only then', async () => {
    const tmp = freshTmp();
    // A real stale folder: its collector was killed, so no exit hook could remove it.
    const killed = await collectorProcess(tmp, 'wait');
    killed.child.kill('SIGKILL');
    await once(killed.child, 'exit');
    const stale = dirname(killed.endpoint);
    assert.ok(existsSync(stale), 'SIGKILL leaves the folder');
    const staleOwner = parseOwner(readFileSync(join(stale, OWNER_FILE), 'utf8'));
    assert.ok(staleOwner);
    // A live owner's folder, in another process.
    const alive = await collectorProcess(tmp, 'wait');
    const live = dirname(alive.endpoint);
    // Folders the sweep must not judge: one without an owner file (a collector may be making
    // it now), and a link, named like a folder, to a folder whose owner is gone.
    const unowned = mkdtempSync(join(tmp, 'lockscope-'));
    const target = mkdtempSync(join(tmp, 'target-'));
    writeFileSync(join(target, OWNER_FILE), JSON.stringify(staleOwner));
    const link = join(tmp, 'lockscope-link00');
    symlinkSync(target, link);
    // A pid that is alive, but as another process than the one that made the folder (Linux).
    const reused = mkdtempSync(join(tmp, 'lockscope-'));
    writeFileSync(join(reused, OWNER_FILE), JSON.stringify({ ...staleOwner, pid: process.pid }));
    // Another user's folder, when this test may make one.
    const others = mkdtempSync(join(tmp, 'lockscope-'));
    writeFileSync(join(others, OWNER_FILE), JSON.stringify(staleOwner));
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chownSync(others, 65534, 65534);

    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      const collector = await startCollector();
      const own = dirname(collector.endpoint);
      try {
        assert.equal(existsSync(stale), false, 'the stale folder is swept');
        assert.ok(existsSync(live), "a live collector's folder is kept");
        assert.ok(existsSync(unowned) && existsSync(link) && existsSync(target));
        assert.equal(existsSync(reused), process.platform !== 'linux');
        if (asRoot) assert.ok(existsSync(others), "another user's folder is kept");
        assert.ok(existsSync(own));
      } finally {
        await collector.close();
      }
      assert.equal(existsSync(own), false);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      alive.child.kill('SIGKILL');
      await once(alive.child, 'exit');
    }
  });
});
