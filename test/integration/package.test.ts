/**
 * The `lockscope` package as a user gets it: `npm pack`, installed from the tarball into a new
 * ES module project and a new CommonJS project (TypeScript `module: node16`), each of which
 * type-checks and runs a deadlocking program under the package's own `lockscope` bin, and
 * async-mutex code that imports `lockscope/async-mutex`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { Report } from '../../runtime-probe/src/analysis/types.js';
import { NODE } from './run-program.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const TSC = join(root, 'node_modules/typescript/bin/tsc');

/** Two transfers that take two accounts in opposite orders: the classic deadlock. */
const DEADLOCK = `import { Mutex, sleep } from 'lockscope';

const a = new Mutex({ name: 'account A' });
const b = new Mutex({ name: 'account B' });

async function transfer(from: Mutex, to: Mutex): Promise<void> {
  const first = await from.acquire();
  try {
    await sleep(10);
    const second = await to.acquire();
    second.release();
  } finally {
    first.release();
  }
}

void Promise.all([transfer(a, b), transfer(b, a)]);
`;

/** Whether a Mutex of either build is an instance of the other's class. */
const IDENTITY = `import { Mutex } from 'lockscope';

async function main(): Promise<void> {
  // An ES import from CommonJS output: TypeScript would turn a plain import() into a require().
  const load = new Function('s', 'return import(s)') as (s: string) => Promise<typeof import('lockscope')>;
  const esm = await load('lockscope');
  console.log(JSON.stringify({ esm: new esm.Mutex() instanceof Mutex, cjs: new Mutex() instanceof esm.Mutex }));
}
void main();
`;

/**
 * async-mutex code, switched by its import specifier: async-mutex's types by their names (the
 * namespaces' Releaser and Worker too), and one set of classes and errors for import and require.
 */
const ASYNC_MUTEX = `import { E_TIMEOUT, Mutex, Semaphore, withTimeout } from 'lockscope/async-mutex';
import type { MutexInterface, SemaphoreInterface } from 'lockscope/async-mutex';

async function main(): Promise<void> {
  const mutex: MutexInterface = new Mutex();
  const release: MutexInterface.Releaser = await mutex.acquire();
  const worker: SemaphoreInterface.Worker<number> = (value) => value * 2;
  const semaphore: SemaphoreInterface = withTimeout(new Semaphore(3), 1000);
  const doubled = await semaphore.runExclusive(worker, 2);
  const timedOut = await withTimeout(mutex, 5).acquire().then(
    () => false,
    (e: unknown) => e === E_TIMEOUT,
  );
  release();
  const load = new Function('s', 'return import(s)') as (s: string) => Promise<typeof import('lockscope/async-mutex')>;
  const esm = await load('lockscope/async-mutex');
  console.log(JSON.stringify({ doubled, timedOut, same: esm.Mutex === Mutex && esm.E_TIMEOUT === E_TIMEOUT }));
}
void main();
`;

interface Packed {
  filename: string;
  files: { path: string }[];
}

/** Runs a command; its output, or a failure that shows what it printed. */
async function sh(cmd: string, args: string[], cwd: string): Promise<{ stdout: string }> {
  try {
    return await run(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stdout}\n${e.stderr}`);
  }
}

/** The `lockscope` bin of a scratch project, on the Node under test; never throws. */
function lockscope(cwd: string, args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((done) => {
    execFile(
      NODE,
      [join(cwd, 'node_modules/lockscope/bin/lockscope.cjs'), ...args],
      { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } },
      (err, stdout) => done({ code: err ? Number(err.code ?? -1) : 0, stdout }),
    );
  });
}

describe('the lockscope package, installed from its tarball', () => {
  let scratch: string;
  let packed: Packed;

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'lockscope-package-'));
    const { stdout } = await sh(
      'npm',
      ['pack', '--json', '--pack-destination', scratch],
      join(root, 'runtime-probe'),
    );
    packed = (JSON.parse(stdout) as Packed[])[0]!;
  });

  after(() => rmSync(scratch, { recursive: true, force: true }));

  test('the tarball holds the README, the license, both builds and both declarations', () => {
    const files = packed.files.map((f) => f.path);
    for (const file of [
      'README.md',
      'LICENSE',
      'package.json',
      'bin/lockscope.cjs',
      'dist/index.mjs',
      'dist/index.cjs',
      'dist/cli.cjs',
      'dist/types/index.d.ts',
      'dist/types/index.d.cts',
    ]) {
      assert.ok(files.includes(file), `${file} is in the tarball`);
    }
    assert.deepEqual(
      files.filter((f) => f.endsWith('.map') || f.startsWith('src/')),
      [],
      'no source maps, whose sources are not shipped',
    );
    // Every file the exports name is in it.
    const manifest = JSON.parse(readFileSync(join(root, 'runtime-probe/package.json'), 'utf8')) as {
      exports: unknown;
    };
    const targets = (node: unknown): string[] =>
      typeof node === 'string'
        ? [node.replace(/^\.\//, '')]
        : Object.values(node as Record<string, unknown>).flatMap(targets);
    const named = targets(manifest.exports);
    assert.ok(named.includes('dist/types/analysis/index.d.cts'));
    assert.deepEqual(
      named.filter((f) => !files.includes(f)),
      [],
    );
  });

  for (const type of ['module', 'commonjs'] as const) {
    test(`a new ${type} project type-checks and runs a deadlock with it`, async () => {
      const project = join(scratch, type);
      mkdirSync(project);
      const tarball = join(scratch, packed.filename);
      writeFileSync(
        join(project, 'package.json'),
        JSON.stringify({ name: `scratch-${type}`, private: true, type }),
      );
      writeFileSync(
        join(project, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: 'node16',
            moduleResolution: 'node16',
            target: 'es2022',
            strict: true,
            outDir: 'out',
            rootDir: '.',
            types: ['node'],
            typeRoots: [join(root, 'node_modules/@types')],
          },
          include: ['*.ts'],
        }),
      );
      writeFileSync(join(project, 'deadlock.ts'), DEADLOCK);
      writeFileSync(join(project, 'identity.ts'), IDENTITY);
      writeFileSync(join(project, 'async-mutex.ts'), ASYNC_MUTEX);
      await sh('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], project);

      // Only the runtime: no transpiler, no bundler (tsx is an optional peer, left out).
      const { stdout: tree } = await sh(
        'npm',
        ['ls', '--all', '--omit=dev', '--parseable'],
        project,
      );
      assert.deepEqual(
        tree.trim().split('\n').slice(1),
        [join(project, 'node_modules/lockscope')],
        'lockscope installs nothing else',
      );

      // Type-checks (a CommonJS consumer of an ES module package's declarations would get TS1479).
      await sh(NODE, [TSC, '-p', '.'], project);

      const identity = await sh(NODE, ['out/identity.js'], project);
      assert.deepEqual(JSON.parse(identity.stdout), { esm: true, cjs: true }, 'one Mutex class');
      const asyncMutex = await sh(NODE, ['out/async-mutex.js'], project);
      assert.deepEqual(JSON.parse(asyncMutex.stdout), { doubled: 6, timedOut: true, same: true });

      const r = await lockscope(project, ['run', '--json', 'out/deadlock.js']);
      const report = JSON.parse(r.stdout) as Report;
      assert.deepEqual(
        report.findings.map((f) => [f.kind, f.resources.map((x) => x.name).sort()]),
        [['deadlock', ['account A', 'account B']]],
      );
      assert.equal(report.findings[0]!.sites[0]?.file.endsWith('deadlock.js'), true);
      assert.equal(r.code, 1);
    });
  }
});
