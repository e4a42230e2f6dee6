/**
 * Child processes in the same session. `lockscope run` gives the program the probe (and the
 * TypeScript loader it got) in NODE_OPTIONS, so every Node process started with the inherited
 * environment loads the probe and reports to the same collector, whatever its `execArgv`. A
 * program may still start a Node child with an environment of its own (`env: {}`, or one that
 * sets NODE_OPTIONS): for such a child, the probe puts back the session's variables and its
 * flags, so that the child reports too. Only a child whose executable is Node gets them; other
 * programs are started exactly as the program asked.
 *
 * A child whose environment sets LOCKSCOPE_ENDPOINT to the empty string opts out: it is left as
 * given, and a probe it loads reports nowhere.
 */
import childProcess, { ChildProcess } from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { basename } from 'node:path';
import { rt } from './runtime.js';
import type { Env } from './config.js';

/**
 * The session's variables a Node child needs to report where its parent does, with the same
 * settings. LOCKSCOPE_TRACE is not among them: a child writing the parent's trace file would
 * clobber it.
 */
export const SESSION_VARIABLES = [
  'LOCKSCOPE_ENDPOINT',
  'LOCKSCOPE_TOKEN',
  'LOCKSCOPE_LOSSLESS',
  'LOCKSCOPE_FAIL_FAST',
  'LOCKSCOPE_STACKS',
  'LOCKSCOPE_STACK_DEPTH',
  'LOCKSCOPE_HOLD_WARN_MS',
  'LOCKSCOPE_NODE_OPTIONS',
] as const;

/**
 * Whether `file`, a child's executable, is Node: this process's own executable, or a program
 * named `node` (`nodejs` on some Linux distributions). Pure.
 */
export function isNodeExecutable(file: string, execPath: string): boolean {
  if (file === execPath) return true;
  const name = basename(file.replace(/\\/g, '/')).toLowerCase();
  return name === 'node' || name === 'node.exe' || name === 'nodejs';
}

/**
 * The environment a Node child gets: `given` with the session's variables it lacks (from
 * `session`, what this process was started with) and the probe's flags at the end of its
 * NODE_OPTIONS. Returns `given` itself when nothing needs adding or the child opted out. Pure.
 */
export function childEnvironment(given: Env, session: Env): Env {
  const endpoint = session.LOCKSCOPE_ENDPOINT;
  if (!endpoint) return given;
  const own = given.LOCKSCOPE_ENDPOINT;
  // The child opted out (an empty endpoint) or reports to another collector: left as given.
  if (own !== undefined && own !== endpoint) return given;
  const env: Env = { ...given };
  for (const name of SESSION_VARIABLES) {
    if (env[name] === undefined && session[name] !== undefined) env[name] = session[name];
  }
  const flags = session.LOCKSCOPE_NODE_OPTIONS;
  if (flags) {
    const options = env.NODE_OPTIONS ?? '';
    if (!options.includes(flags)) env.NODE_OPTIONS = options ? `${options} ${flags}` : flags;
  }
  return sameEnvironment(env, given) ? given : env;
}

function sameEnvironment(a: Env, b: Env): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/** The part of the options `ChildProcess.prototype.spawn` takes that a child's environment is. */
interface SpawnOptions {
  file?: unknown;
  envPairs?: unknown;
}

/** `K=V` pairs, as Node passes a child's environment, as a record and back. */
function pairsToEnv(pairs: readonly string[]): Env {
  const env: Env = {};
  for (const pair of pairs) {
    // A name may start with `=` on Windows (`=C:`), so the separator is the first `=` after it.
    const at = pair.indexOf('=', 1);
    if (at > 0) env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}

function envToPairs(env: Env): string[] {
  const pairs: string[] = [];
  for (const [k, v] of Object.entries(env)) if (v !== undefined) pairs.push(`${k}=${v}`);
  return pairs;
}

/** One synchronous spawning function of `child_process`: (file, args?, options?). */
type SyncSpawn = (file: string, ...rest: unknown[]) => unknown;

/**
 * Installs the child environment once per thread, when this process is in a session. The
 * asynchronous ways to start a process (`spawn`, `fork`, `execFile`, `exec`, and `cluster`,
 * which forks) all end in `ChildProcess.prototype.spawn`, with the environment as `envPairs`;
 * the synchronous ones do not, so `spawnSync` and `execFileSync` are wrapped where the program
 * finds them (`execSync` always runs a shell, which is not Node).
 */
export function coverChildProcesses(env: Env = process.env): void {
  if (!env.LOCKSCOPE_ENDPOINT || rt.states.has('children-covered')) return;
  rt.states.set('children-covered', true);
  // What this process was started with: the program may change its own environment later.
  const session: Env = {};
  for (const name of SESSION_VARIABLES) session[name] = env[name];
  // Node's own method, which every asynchronous start goes through, is not in its types.
  const proto = ChildProcess.prototype as unknown as {
    spawn: (this: ChildProcess, options: SpawnOptions) => unknown;
  };
  const original = proto.spawn;
  proto.spawn = function spawn(this: ChildProcess, options: SpawnOptions): unknown {
    if (
      options !== null &&
      typeof options === 'object' &&
      typeof options.file === 'string' &&
      Array.isArray(options.envPairs) &&
      isNodeExecutable(options.file, process.execPath)
    ) {
      const given = pairsToEnv(options.envPairs as string[]);
      const env = childEnvironment(given, session);
      if (env !== given) options = { ...options, envPairs: envToPairs(env) };
    }
    return original.call(this, options);
  };
  // The module's exports object itself (its default import, in both builds) is what a program
  // calls through, and an ES module's named imports of a built-in follow it after
  // syncBuiltinESMExports().
  const cp = childProcess as unknown as Record<string, unknown>;
  for (const name of ['spawnSync', 'execFileSync']) {
    const fn = cp[name] as SyncSpawn;
    cp[name] = function (this: unknown, file: string, ...rest: unknown[]): unknown {
      if (typeof file !== 'string' || !isNodeExecutable(file, process.execPath)) {
        return fn.call(this, file, ...rest);
      }
      // Node's own reading of (file, args?, options?): args may be left out or null.
      const [first, second] = rest;
      const args = Array.isArray(first) ? first : [];
      const given = first == null || Array.isArray(first) ? second : first;
      const options = given !== null && typeof given === 'object' ? given : {};
      const base = (options as { env?: Env }).env ?? process.env;
      const env = childEnvironment(base, session);
      if (env === base) return fn.call(this, file, ...rest);
      return fn.call(this, file, args, { ...options, env });
    };
  }
  syncBuiltinESMExports();
}
