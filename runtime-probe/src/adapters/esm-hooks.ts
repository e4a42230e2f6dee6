/**
 * The module hook that hands an ES module build of a lock package to its adapter: the loaded
 * source gets one statement appended that passes the module's classes to the probe's adapter
 * registry (`globalThis[Symbol.for('lockscope.adapters.v1')]`, adapters/install.ts), in the
 * thread that runs the module. A package bundled into one ES module keeps its classes in module
 * scope, so only code inside the module can reach them; the statement can also rebind a function
 * the module's other exports call (async-mutex's `tryAcquire` calls its own `withTimeout`).
 *
 * It imports nothing, since on Node 20 it runs on the loader thread (`module.register`), where the
 * probe is not loaded; from Node 22.15 the probe calls `appendAdapter` from a synchronous
 * `module.registerHooks` hook instead.
 */

/** What is appended to each known module, by the end of its URL. */
const APPENDIX: readonly { readonly path: RegExp; readonly code: string }[] = [
  {
    path: /\/node_modules\/async-mutex\/index\.mjs$/,
    code:
      "globalThis[Symbol.for('lockscope.adapters.v1')]?.adapt('async-mutex', import.meta.url, " +
      '{ Mutex, Semaphore }, (wrap) => { withTimeout = wrap(withTimeout); });',
  },
];

/** The source of the module at `url` with its adapter's statement, or undefined to keep it. */
export function appendAdapter(url: string, source: unknown): string | undefined {
  for (const { path, code } of APPENDIX) {
    if (!path.test(url)) continue;
    const text =
      typeof source === 'string'
        ? source
        : source instanceof Uint8Array
          ? new TextDecoder().decode(source)
          : undefined;
    return text === undefined ? undefined : `${text}\n;${code}\n`;
  }
  return undefined;
}

export interface LoadContext {
  format?: string | null | undefined;
}
export interface LoadResult {
  format?: string | null | undefined;
  source?: unknown;
  shortCircuit?: boolean;
}

/** The asynchronous hook, for `module.register` (Node 20). */
export async function load(
  url: string,
  context: LoadContext,
  next: (url: string, context: LoadContext) => Promise<LoadResult>,
): Promise<LoadResult> {
  const loaded = await next(url, context);
  if (loaded.format !== 'module') return loaded;
  const source = appendAdapter(url, loaded.source);
  return source === undefined ? loaded : { ...loaded, source };
}
