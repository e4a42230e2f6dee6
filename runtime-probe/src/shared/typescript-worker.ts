/**
 * TypeScript worker scripts. A program run with a TypeScript loader (tsx, or the extension's)
 * expects `new Worker('./job.ts')` to work as the main thread does; on Node 20, tsx registers its
 * hooks on the main thread only, and the worker fails with ERR_UNKNOWN_FILE_EXTENSION. So a
 * lockscope Worker whose script is a TypeScript file starts a small bootstrap instead: it imports
 * an empty TypeScript file that ships with the probe, and only if the worker cannot load it does it
 * register tsx's loader in the worker; then it imports the script. (Trying the script itself
 * first would not do: the module loader remembers a failed import.) Everything else (workerData,
 * execArgv, env) is the caller's.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { WorkerOptions } from 'node:worker_threads';
import { moduleDir } from '../module-dir.js';

const TS_SCRIPT = /\.(ts|mts|cts|tsx)$/;

/** tsx's API URLs, found once per thread: a pool starts many workers. */
const tsxApis = new Map<string, string | undefined>();

/**
 * One of tsx's APIs (`./esm/api`, `./cjs/api`), its `import` build (the `require` one resolves its
 * hooks wrongly when imported), from the tsx the lockscope package depends on, found through tsx's
 * own export map.
 */
function tsxApiUrl(subpath: string): string | undefined {
  if (tsxApis.has(subpath)) return tsxApis.get(subpath);
  let url: string | undefined;
  try {
    const manifest = createRequire(join(moduleDir(), 'noop.js')).resolve('tsx/package.json');
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as {
      exports?: Record<string, { import?: string | { default?: string } } | undefined>;
    };
    const entry = pkg.exports?.[subpath]?.import;
    const file = typeof entry === 'string' ? entry : entry?.default;
    url = file ? pathToFileURL(join(dirname(manifest), file)).href : undefined;
  } catch {
    url = undefined;
  }
  tsxApis.set(subpath, url);
  return url;
}

/** The empty TypeScript file beside the probe's build (or its source). */
function checkUrl(): string {
  return pathToFileURL(join(moduleDir(), 'typescript-check.ts')).href;
}

/** The script's URL, resolved as Node resolves a Worker's filename (a path from the cwd). */
function scriptUrl(filename: string | URL): string | undefined {
  if (filename instanceof URL) return filename.protocol === 'file:' ? filename.href : undefined;
  if (filename.startsWith('file:')) return filename;
  // Node takes a path relative to the working directory only with a leading ./ or ../ (or .\
  // and ..\ on Windows).
  if (isAbsolute(filename) || /^\.\.?[\\/]/.test(filename)) {
    return pathToFileURL(resolve(filename)).href;
  }
  return undefined;
}

/**
 * The bootstrap to run instead of a TypeScript worker script, with the options that run it; or
 * undefined when the script is not a TypeScript file (or is already code to evaluate).
 */
export function typeScriptWorker(
  filename: string | URL,
  options: WorkerOptions | undefined,
): { script: string; options: WorkerOptions } | undefined {
  if (options?.eval) return undefined;
  const target = scriptUrl(filename);
  if (!target || !TS_SCRIPT.test(new URL(target).pathname)) return undefined;
  const script = `
const target = ${JSON.stringify(target)};
const apis = ${JSON.stringify([tsxApiUrl('./esm/api'), tsxApiUrl('./cjs/api')].filter(Boolean))};
import(${JSON.stringify(checkUrl())})
  .catch((err) => {
    if (!err || err.code !== 'ERR_UNKNOWN_FILE_EXTENSION') return;
    // Both halves of tsx, as on the main thread: a .ts file in a CommonJS package is CommonJS.
    return Promise.all(apis.map((api) => import(api).then((m) => m.register())));
  })
  .then(() => import(target));
`;
  return { script, options: { ...options, eval: true } };
}
