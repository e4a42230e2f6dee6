/**
 * Runs a program in a child process the way a user would: with the Node under test (Node 20 or
 * 24, from LOCKSCOPE_TEST_NODE), TypeScript through tsx, and the probe configured by environment.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildSync } from 'esbuild';
import { StreamSession } from '../../runtime-probe/src/collector.js';
import type { Message, WireEvent } from '../../runtime-probe/src/protocol.js';

export const NODE = process.env.LOCKSCOPE_TEST_NODE ?? process.execPath;

export interface ProgramResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runProgram(
  args: string[],
  env: Record<string, string> = {},
  options: { nodeArgs?: string[]; timeoutMs?: number } = {},
): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [...(options.nodeArgs ?? ['--import', 'tsx']), ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`${args.join(' ')} did not finish within ${options.timeoutMs ?? 60_000} ms`),
      );
    }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** How a program run with `node` ended: its exit code (0 when it succeeded) and its output. */
export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

const exec = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Runs the Node under test with `args` (no loader of its own: a `.mjs`/`.cjs` program, the CLI,
 * or `--import` flags given in `args`), in `cwd` (the repository by default), and resolves with
 * how it ended, failing or not. A program that does not end within a minute is killed, and that
 * rejects.
 */
export async function node(
  args: string[],
  env: Record<string, string> = {},
  cwd = repoRoot,
): Promise<Outcome> {
  try {
    const { stdout, stderr } = await exec(NODE, args, {
      cwd,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Reads a JSON Lines trace through the collector's validating session. */
export function readTrace(path: string): Message[] {
  const session = new StreamSession(undefined);
  const out: Message[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = session.accept(line);
    if (m) out.push(m);
  }
  return out;
}

/** Every event of a trace, in order. */
export function events(trace: Message[]): WireEvent[] {
  return trace.flatMap((m) => (m.t === 'events' ? m.events : []));
}

/** Each event on a lock of `kind` as `flow op`, flows numbered in their order of appearance. */
export function opsOn(trace: Message[], kind: string): string[] {
  const ids = new Set(
    trace.filter((m) => m.t === 'resource' && m.kind === kind).map((m) => (m as { id: number }).id),
  );
  const flows = new Map<number, number>();
  return events(trace)
    .filter((e) => e.res !== undefined && ids.has(e.res))
    .map((e) => {
      if (!flows.has(e.task)) flows.set(e.task, flows.size + 1);
      return `${flows.get(e.task)} ${e.op}`;
    });
}

/** The last JSON object a program printed on a line of its own. */
export function lastJson<T>(stdout: string): T {
  const line = stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (!line) throw new Error(`the program printed no JSON:\n${stdout}`);
  return JSON.parse(line) as T;
}

/**
 * Bundles test/fixtures/NAME.ts into test/.build/NAME.mjs, importing the lockscope package as a
 * user's worker script would, and returns its path. `sourcemap` adds an inline map back to the
 * TypeScript fixture, for tests that check reported lines.
 */
export function bundleFixture(name: string, options: { sourcemap?: boolean } = {}): string {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const out = join(root, 'test', '.build', `${name}.mjs`);
  mkdirSync(join(root, 'test', '.build'), { recursive: true });
  buildSync({
    entryPoints: [join(root, 'test', 'fixtures', `${name}.ts`)],
    outfile: out,
    bundle: true,
    external: ['lockscope'],
    format: 'esm',
    platform: 'node',
    target: 'node20',
    ...(options.sourcemap ? { sourcemap: 'inline' as const } : {}),
    logLevel: 'warning',
  });
  return out;
}

/** What a `lockscope` command did. */
export interface CliResult {
  /** The exit status, or -1 when it ended by a signal or could not start. */
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the `lockscope` command as a user does, through its bin (which loads the build), on the
 * Node under test, in `cwd` (the repository by default), without colours.
 */
export function runLockscope(
  args: string[],
  cwd?: string,
  env: Record<string, string> = {},
): Promise<CliResult> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const bin = join(root, 'runtime-probe', 'bin', 'lockscope.cjs');
  return new Promise((done) => {
    execFile(
      NODE,
      [bin, ...args],
      {
        cwd: cwd ?? root,
        encoding: 'utf8',
        timeout: 60_000,
        // A --json report of a busy program is larger than execFile's default of 1 MB.
        maxBuffer: 256 * 1024 * 1024,
        env: { ...process.env, ...env, NO_COLOR: '1' },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}
