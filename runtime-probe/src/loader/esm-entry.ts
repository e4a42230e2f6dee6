/**
 * `--import lockscope/esm-entry` makes a TypeScript entry with top-level await run as an ES module
 * inside a CommonJS package (see esm-entry-hooks.ts). `lockscope run` adds it after tsx.
 *
 * Where Node has synchronous hooks (`module.registerHooks`, Node 22.15 and later), they are used:
 * there tsx runs a CommonJS entry through the require hooks, which asynchronous hooks never see.
 * Elsewhere (Node 20) the asynchronous hooks run on the loader thread.
 */
import * as module from 'node:module';
import { entryFormat, type ResolveContext, type ResolveResult } from './esm-entry-hooks.js';

type SyncResolve = (
  specifier: string,
  context: ResolveContext,
  next: (specifier: string, context: ResolveContext) => ResolveResult,
) => ResolveResult;
const registerHooks = (module as { registerHooks?: (hooks: { resolve: SyncResolve }) => unknown })
  .registerHooks;

if (registerHooks) {
  registerHooks({
    resolve(specifier, context, next) {
      const resolved = next(specifier, context);
      const format = entryFormat(resolved, context);
      return format ? { ...resolved, format } : resolved;
    },
  });
} else {
  module.register('./esm-entry-hooks.mjs', import.meta.url);
}
