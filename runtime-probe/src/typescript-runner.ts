/**
 * How `lockscope run` runs a TypeScript program. tsx is an optional peer of the package: a lock
 * library must not bring a transpiler into every project that uses it. So the program runs with
 * the project's own tsx when there is one (it also maps `./x.js` imports to `./x.ts`, as tsc
 * does), else with Node's own type stripping where this Node has it, else not at all, with a
 * message that says how to add tsx.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const TYPESCRIPT_FILE = /\.(ts|mts|cts|tsx)$/;

/** The outcome: the Node flags that load the program, or why it cannot run. */
export type TypeScriptLoader =
  { ok: true; execArgv: string[]; via: 'tsx' | 'node' } | { ok: false; reason: string };

/**
 * The loader for `program`, looked for from the program's folder first (the user's project),
 * then from `probeDir`, the folder of the running CLI.
 */
export function typeScriptLoader(program: string, probeDir: string): TypeScriptLoader {
  const tsx = resolveFrom(['tsx'], [dirname(program), probeDir]);
  if (tsx) {
    const execArgv = ['--import', pathToFileURL(tsx).href];
    // After tsx: an entry with top-level await in a CommonJS package runs as an ES module.
    const esmEntry = join(probeDir, 'esm-entry.mjs');
    if (existsSync(esmEntry)) execArgv.push('--import', pathToFileURL(esmEntry).href);
    return { ok: true, execArgv, via: 'tsx' };
  }
  // `process.features.typescript` is 'strip' or 'transform' where Node runs .ts files itself;
  // it never runs .tsx.
  const native = (process.features as { typescript?: string | false }).typescript;
  if (typeof native === 'string' && !program.endsWith('.tsx')) {
    return { ok: true, execArgv: [], via: 'node' };
  }
  return {
    ok: false,
    reason:
      `cannot run ${program}: Node ${process.versions.node} does not run it by itself; add tsx ` +
      'to the project (npm install --save-dev tsx), or use Node 22.18 or later for a .ts file',
  };
}

function resolveFrom(names: string[], folders: string[]): string | undefined {
  for (const folder of folders) {
    const require = createRequire(join(folder, 'noop.js'));
    for (const name of names) {
      try {
        return require.resolve(name);
      } catch {
        // Not installed from this folder: try the next.
      }
    }
  }
  return undefined;
}
