/**
 * Zero-change instrumentation: under `lockscope run` and `node --import lockscope/register`, the
 * lock packages a program already uses are observed without a change to it. This installs, once
 * per thread:
 *
 * - a `require` hook (`Module._load`) that hands a CommonJS build of a known package to its
 *   adapter as it loads;
 * - a module hook for ES modules (esm-hooks.ts): `module.registerHooks` where Node has it (22.15
 *   and later), else `module.register` with a loader on the loader thread (Node 20);
 * - the Web Locks adapter, on `navigator.locks`'s prototype.
 *
 * Each adapter declares the versions it supports, read from the package's package.json as it
 * loads (Node's own version for Web Locks); a version outside the range is said once on stderr
 * and left unpatched. `LOCKSCOPE_ADAPTERS` turns adapters off (`parseAdapters`).
 */
import * as nodeModule from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { shared, warnOnce } from '../runtime.js';
import { skipFramesUnder } from '../sites.js';
import { moduleDir } from '../module-dir.js';
import {
  ASYNC_MUTEX_RANGE,
  patchAsyncMutex,
  wrapWithTimeout,
  type WithTimeout,
} from './async-mutex.js';
import { ASYNC_LOCK_RANGE, patchAsyncLock } from './async-lock.js';
import { WEB_LOCKS_RANGE, patchWebLocks } from './web-locks.js';
import { PG_RANGE, patchPg, patchPgPool } from './pg.js';
import { installPgPoller } from './pg-poller.js';
import { REDLOCK_RANGE, patchRedlock } from './redlock.js';
import { appendAdapter, type LoadContext, type LoadResult } from './esm-hooks.js';
import { versionIn, type VersionRange } from './versions.js';

/** The adapters by the name `LOCKSCOPE_ADAPTERS` and the messages use. */
export const ADAPTERS = ['async-mutex', 'async-lock', 'web-locks', 'pg', 'redlock'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

/**
 * Which adapters are on, from `LOCKSCOPE_ADAPTERS`: a comma-separated list read in order from
 * "all on", where `-name` turns one off, `name` turns it on, `none` turns all off and `all` all
 * on (`-async-lock`, `none,async-mutex`). Unknown words are the problems returned.
 */
export function parseAdapters(value: string | undefined): {
  on: Set<AdapterName>;
  problems: string[];
} {
  const on = new Set<AdapterName>(ADAPTERS);
  const problems: string[] = [];
  for (const raw of (value ?? '').split(',')) {
    const word = raw.trim();
    if (word === '') continue;
    if (word === 'all') for (const a of ADAPTERS) on.add(a);
    else if (word === 'none') on.clear();
    else {
      const off = word.startsWith('-');
      const name = off ? word.slice(1) : word;
      if (!(ADAPTERS as readonly string[]).includes(name)) {
        problems.push(
          `LOCKSCOPE_ADAPTERS: unknown adapter "${name}" (known: ${ADAPTERS.join(', ')}, all, none); it is ignored`,
        );
        continue;
      }
      if (off) on.delete(name as AdapterName);
      else on.add(name as AdapterName);
    }
  }
  return { on, problems };
}

const REGISTRY = Symbol.for('lockscope.adapters.v1');

interface Registry {
  adapt(name: string, where: string, exports: Record<string, unknown>, rebind?: Rebind): void;
}
type Rebind = (wrap: (original: WithTimeout) => WithTimeout) => void;

const st = shared('adapters', () => ({ installed: false, on: new Set<AdapterName>() }));

/** The folder of package `name` that holds `file`, or undefined when it is not inside one. */
export function packageDir(file: string, name: string): string | undefined {
  const marker = `${sep}node_modules${sep}${name.split('/').join(sep)}`;
  // The folder itself (a `require` of the folder), or a file inside it.
  if (file.endsWith(marker)) return file;
  const at = file.lastIndexOf(marker + sep);
  return at < 0 ? undefined : file.slice(0, at + marker.length);
}

function versionOf(dir: string): string | undefined {
  try {
    const v = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown })
      .version;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the adapter `name` may patch version `version`; says once on stderr when it may not.
 * @internal
 */
export function supported(
  name: AdapterName,
  version: string | undefined,
  range: VersionRange,
): boolean {
  if (version !== undefined && versionIn(version, range)) return true;
  warnOnce(
    `adapter-version:${name}:${version ?? '?'}`,
    `${name} ${version ?? '(unknown version)'} is not supported by its adapter ` +
      `(supported: >=${range.min} <${range.below}); it runs unobserved. ` +
      `LOCKSCOPE_ADAPTERS=-${name} silences this.`,
  );
  return false;
}

/** Hands a loaded build of a package to its adapter: checks the version, then patches. */
function adapt(
  name: string,
  where: string,
  exports: Record<string, unknown>,
  rebind?: Rebind,
): void {
  const file = where.startsWith('file:') ? fileURLToPath(where) : where;
  if (name === 'async-mutex' && st.on.has('async-mutex')) {
    const dir = packageDir(file, name);
    if (!dir || !supported('async-mutex', versionOf(dir), ASYNC_MUTEX_RANGE)) return;
    if (!patchAsyncMutex(exports)) return;
    skipFramesUnder(dir);
    // The CommonJS build runs its async functions through tslib's helpers: frames to skip too.
    try {
      skipFramesUnder(
        dirname(nodeModule.createRequire(join(dir, 'package.json')).resolve('tslib')),
      );
    } catch {
      // The ES module build has no tslib, and needs none.
    }
    rebind?.(wrapWithTimeout);
  } else if (name === 'async-lock' && st.on.has('async-lock')) {
    const dir = packageDir(file, name);
    if (!dir || !supported('async-lock', versionOf(dir), ASYNC_LOCK_RANGE)) return;
    if (patchAsyncLock(exports.default)) skipFramesUnder(dir);
  } else if (name === 'pg' && st.on.has('pg')) {
    const dir = packageDir(file, name);
    if (!dir || !supported('pg', versionOf(dir), PG_RANGE)) return;
    if (!patchPg(exports.default)) return;
    installPgPoller();
    skipFramesUnder(dir);
    // pg's own packages call the client (pg-pool for `pool.query()`) or run its callbacks
    // (pg-protocol): their frames are the package's too. pg-pool is loaded here, before pg's
    // index does, so that its `query` is patched before any pool exists.
    const req = nodeModule.createRequire(join(dir, 'package.json'));
    for (const dep of ['pg-pool', 'pg-protocol']) {
      try {
        const main = req.resolve(dep);
        skipFramesUnder(packageDir(main, dep) ?? dirname(main));
        if (dep === 'pg-pool') patchPgPool(req(dep));
      } catch {
        // A pg without it beside it has nothing of it to skip.
      }
    }
  } else if (name === 'redlock' && st.on.has('redlock')) {
    const dir = packageDir(file, name);
    if (!dir || !supported('redlock', versionOf(dir), REDLOCK_RANGE)) return;
    if (!patchRedlock(exports.default)) return;
    skipFramesUnder(dir);
    // Its promises are bluebird's, whose frames (a `disposer` under `using`) are not the program's.
    try {
      skipFramesUnder(
        dirname(nodeModule.createRequire(join(dir, 'package.json')).resolve('bluebird')),
      );
    } catch {
      // No bluebird of its own to find: redlock would not have loaded without one.
    }
  }
}

type Load = (this: unknown, request: string, parent: unknown, isMain: boolean) => unknown;
interface ModuleStatics {
  _load: Load;
  _resolveFilename(request: string, parent: unknown, isMain: boolean): string;
}

/** The CommonJS side: a known package's exports, handed over once loaded. */
function hookRequire(): void {
  const M = nodeModule.default as unknown as ModuleStatics;
  const original = M._load;
  if (typeof original !== 'function') return;
  M._load = function (this: unknown, request: string, parent: unknown, isMain: boolean): unknown {
    const exports = original.call(this, request, parent, isMain);
    if (typeof request === 'string') {
      const name = watchedPackage(request, parent);
      if (name) {
        try {
          requireLoaded(name, M._resolveFilename(request, parent, isMain), exports);
        } catch (err) {
          // The load itself worked: the package runs unobserved rather than failing to load.
          const why = err instanceof Error ? err.message : String(err);
          warnOnce(
            `adapter-failed:${name}`,
            `the ${name} adapter failed (${why}); it runs unobserved`,
          );
        }
      }
    }
    return exports;
  };
}

type Watched = 'async-mutex' | 'async-lock' | 'pg' | 'redlock';

/**
 * The package a `require` request names: the bare name, or a file inside its folder. pg's
 * Client is watched where pg's index requires it (`./client`), which is also how pg's ES module
 * wrapper reaches it (it imports the CommonJS index, whose own requires come through here).
 */
function watchedPackage(request: string, parent: unknown): Watched | undefined {
  if (request === 'async-mutex' || request === 'async-lock' || request === 'redlock')
    return request;
  if (request === './client' || request === './client.js') {
    const from = (parent as { filename?: unknown } | null | undefined)?.filename;
    return typeof from === 'string' && packageDir(from, 'pg') ? 'pg' : undefined;
  }
  if (!request.includes('node_modules')) return undefined;
  if (packageDir(request, 'async-mutex')) return 'async-mutex';
  if (packageDir(request, 'async-lock')) return 'async-lock';
  if (packageDir(request, 'redlock')) return 'redlock';
  return undefined;
}

function requireLoaded(name: Watched, file: string, exports: unknown): void {
  if (typeof exports !== 'object' && typeof exports !== 'function') return;
  if (exports === null) return;
  // These export the class itself (`module.exports = AsyncLock`, `= Redlock`), or pg's Client.
  if (name === 'async-lock' || name === 'pg' || name === 'redlock') {
    adapt(name, file, { default: exports });
    return;
  }
  const dir = packageDir(file, name);
  const e = exports as Record<string, unknown>;
  adapt(name, file, e, (wrap) => {
    // The CommonJS build's index re-exports `withTimeout` through a getter on lib/withTimeout's
    // exports, which `tryAcquire` calls too: replacing it there covers all three.
    const cached = dir
      ? nodeModule.createRequire(file).cache[join(dir, 'lib', 'withTimeout.js')]
      : undefined;
    const holder = cached?.exports as { withTimeout?: WithTimeout } | undefined;
    if (holder && typeof holder.withTimeout === 'function')
      holder.withTimeout = wrap(holder.withTimeout);
  });
}

type SyncLoad = (
  url: string,
  context: LoadContext,
  next: (url: string, context: LoadContext) => LoadResult,
) => LoadResult;
interface HookRegistration {
  registerHooks?: (hooks: { load: SyncLoad }) => unknown;
  register?: (specifier: string, parentURL: string) => void;
}

/** The ES module side: the module hook that appends the adapter's statement (esm-hooks.ts). */
function hookImport(): void {
  const m = nodeModule as unknown as HookRegistration;
  if (typeof m.registerHooks === 'function') {
    m.registerHooks({
      load(url, context, next) {
        const loaded = next(url, context);
        if (loaded.format !== 'module') return loaded;
        const source = appendAdapter(url, loaded.source);
        return source === undefined ? loaded : { ...loaded, source };
      },
    });
    return;
  }
  const hooks = join(moduleDir(), 'adapter-hooks.mjs');
  if (typeof m.register === 'function' && existsSync(hooks)) {
    m.register(pathToFileURL(hooks).href, pathToFileURL(moduleDir()).href + '/');
  }
}

/**
 * What `lockscope/register` does as it loads, before the program runs: installs the adapters.
 * The probe, loaded by register with nothing to record (no sink, no fail-fast), has left identity
 * tracking off until an operation needs it (startup.ts): with no sink the adapters record
 * nothing, and tracking would cost every promise of the program. A program that starts recording
 * later (`subscribe`) has its flows tracked from then on; code that suspended before resumes as
 * flows marked uncertain (runs.ts).
 */
export function registerProbe(): void {
  installAdapters();
}

/**
 * Installs the adapters that observe async-mutex, async-lock, Web Locks, pg and redlock (those
 * `LOCKSCOPE_ADAPTERS` leaves on), once per thread. `lockscope/register` calls it before the
 * program loads anything; a program that loads lockscope itself may call it before it loads the
 * lock package (a package loaded before is not observed).
 */
export function installAdapters(env: Record<string, string | undefined> = process.env): void {
  if (st.installed) return;
  st.installed = true;
  const { on, problems } = parseAdapters(env.LOCKSCOPE_ADAPTERS);
  for (const p of problems) warnOnce(p, p);
  st.on = on;
  if (on.size === 0) return;
  const registry: Registry = {
    adapt(name, where, exports, rebind) {
      // Called from the package's own module as it loads: whatever goes wrong here is the
      // probe's, said once, and the package runs unobserved rather than failing to load.
      try {
        adapt(name, where, exports, rebind);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        warnOnce(
          `adapter-failed:${name}`,
          `the ${name} adapter failed (${why}); it runs unobserved`,
        );
      }
    },
  };
  Object.defineProperty(globalThis, REGISTRY, { value: registry, configurable: true });
  // An ES module's `import` of pg or redlock, CommonJS packages, loads them through `require` too.
  if (on.has('async-mutex') || on.has('async-lock') || on.has('pg') || on.has('redlock')) {
    hookRequire();
  }
  if (on.has('async-mutex')) hookImport();
  if (on.has('web-locks')) patchWebLocks(WEB_LOCKS_RANGE, supported);
}
