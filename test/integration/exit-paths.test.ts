// A collector's socket folder never outlives the process that made it: the exit of that process
// removes it, and when the process was killed, the next collector to start sweeps it.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
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
import { NODE } from './run-program.js';

const root = resolve(import.meta.dirname, '../..');
const posixOnly = {
  skip: process.platform === 'win32' ? 'Unix socket folders only' : false,
};
/** A guard against a hang, not a timing assertion. */
const guard = { timeout: 60_000 };

/** Every temporary folder a test made, removed at the end. */
const made: string[] = [];
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
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
