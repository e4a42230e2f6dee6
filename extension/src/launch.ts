/**
 * How to run a program so that it reports to a session: the Node executable, the flags that let
 * it run TypeScript, and the session's endpoint in its environment. Pure (it reads nothing but
 * module resolution), so it is tested on plain Node; the extension runs the plan as a VS Code task.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface LaunchPlan {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

export interface LaunchInputs {
  file: string;
  /** The folder to run in (the workspace folder, or the file's folder). */
  cwd?: string;
  /** The Node to run; `node` from PATH unless a setting says otherwise. */
  nodePath: string;
  /** The session's environment (LOCKSCOPE_ENDPOINT and LOCKSCOPE_TOKEN). */
  sessionEnv: Record<string, string>;
  /** `tsx`'s loader, when the program's project has it. */
  tsx?: string | undefined;
  /**
   * The project's `lockscope/esm-entry` hook, loaded after tsx so that an entry with top-level
   * await runs as an ES module in a CommonJS package (the extension's own loader does that itself).
   */
  esmEntry?: string | undefined;
  /** The extension's own TypeScript loader (ts-register.mjs). */
  tsLoader: string;
  args?: string[];
  /** The NODE_OPTIONS the program would get without Lockscope (the editor's environment's). */
  nodeOptions?: string | undefined;
}

export const TS_FILE = /\.(ts|mts|cts|tsx)$/;
export const JS_FILE = /\.(js|mjs|cjs|jsx)$/;

export function planRun(i: LaunchInputs): LaunchPlan {
  const loader: string[] = [];
  if (TS_FILE.test(i.file)) {
    loader.push('--import', toUrl(i.tsx ?? i.tsLoader));
    if (i.tsx && i.esmEntry) loader.push('--import', toUrl(i.esmEntry));
  }
  const env = { ...i.sessionEnv };
  if (loader.length > 0) {
    // In NODE_OPTIONS too, as `lockscope run` does, so that a TypeScript child the program
    // starts runs under the same loader whatever execArgv it is given; LOCKSCOPE_NODE_OPTIONS
    // lets the probe put them back for a Node child given an environment of its own. File URLs
    // have no spaces to quote.
    const ours = loader.join(' ');
    env.NODE_OPTIONS = i.nodeOptions ? `${i.nodeOptions} ${ours}` : ours;
    env.LOCKSCOPE_NODE_OPTIONS = ours;
  }
  return {
    command: i.nodePath,
    args: ['--enable-source-maps', ...loader, i.file, ...(i.args ?? [])],
    env,
    cwd: i.cwd ?? dirname(i.file),
  };
}

/**
 * The debugger's launch configuration with Lockscope added: the session's environment, and for a
 * TypeScript program without another loader, the extension's loader in `runtimeArgs`.
 */
export function withLockscope(
  config: Record<string, unknown>,
  sessionEnv: Record<string, string>,
  tsLoader: string,
): Record<string, unknown> {
  const env = { ...((config.env as Record<string, string> | undefined) ?? {}), ...sessionEnv };
  // launch.json is hand-written: a string here would spread into single characters.
  const given: unknown = config.runtimeArgs;
  const runtimeArgs = Array.isArray(given)
    ? given.filter((a): a is string => typeof a === 'string')
    : [];
  const program = typeof config.program === 'string' ? config.program : '';
  const hasLoader = runtimeArgs.some((a) => /tsx|ts-node|ts-register/.test(a));
  if (TS_FILE.test(program) && !hasLoader) runtimeArgs.push('--import', toUrl(tsLoader));
  return { ...config, env, runtimeArgs };
}

/** A module URL for `--import`: `pathToFileURL` escapes `#`, `%` and Windows paths properly. */
function toUrl(path: string): string {
  return path.startsWith('file:') ? path : pathToFileURL(path).href;
}

/** A module of the program's project (its tsx loader, its lockscope's hooks), if it has one. */
export function findInProject(from: string, specifier: string): string | undefined {
  try {
    return createRequire(join(from, 'noop.js')).resolve(specifier);
  } catch {
    return undefined;
  }
}
