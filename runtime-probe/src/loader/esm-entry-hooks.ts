/**
 * A module customization hook for `lockscope run`: a TypeScript entry file that uses top-level
 * await runs as an ES module even inside a CommonJS package (no `"type": "module"`), the way Node
 * runs a `.mts`. tsx would compile it to CommonJS, where top-level await cannot exist, and the
 * program would stop with ERR_REQUIRE_ASYNC_MODULE.
 *
 * Only the entry point is considered (the one module resolved without a parent), and only when it
 * cannot be compiled to CommonJS but can be compiled to an ES module: a program written for
 * CommonJS (`require`, `__dirname`) keeps running as CommonJS.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface ResolveContext {
  parentURL?: string | undefined;
}
export interface ResolveResult {
  url: string;
  format?: string | null | undefined;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<ResolveResult>;
interface Transformer {
  transformSync(
    source: string,
    options: { loader: string; format: string; logLevel: string },
  ): unknown;
}

const TS_ENTRY = /\.(ts|tsx)$/;

/** The esbuild that tsx (the probe's TypeScript loader) uses, if it can be found. */
function loadEsbuild(): Transformer | undefined {
  try {
    const fromHere = createRequire(import.meta.url);
    const fromTsx = createRequire(fromHere.resolve('tsx'));
    return fromTsx('esbuild') as Transformer;
  } catch {
    return undefined;
  }
}

/** True when the source compiles as an ES module and not as CommonJS (top-level await). */
export function needsModuleFormat(
  source: string,
  loader: 'ts' | 'tsx',
  esbuild: Transformer,
): boolean {
  const compiles = (format: string): boolean => {
    try {
      esbuild.transformSync(source, { loader, format, logLevel: 'silent' });
      return true;
    } catch {
      return false;
    }
  };
  return !compiles('cjs') && compiles('esm');
}

/** The format the entry point should have instead of the one resolved, if any. */
export function entryFormat(resolved: ResolveResult, context: ResolveContext): string | undefined {
  if (context.parentURL !== undefined || resolved.format !== 'commonjs') return undefined;
  if (!resolved.url.startsWith('file:') || !TS_ENTRY.test(resolved.url)) return undefined;
  const esbuild = loadEsbuild();
  if (!esbuild) return undefined;
  let source: string;
  try {
    source = readFileSync(fileURLToPath(resolved.url), 'utf8');
  } catch {
    return undefined;
  }
  const loader = resolved.url.endsWith('.tsx') ? 'tsx' : 'ts';
  return needsModuleFormat(source, loader, esbuild) ? 'module' : undefined;
}

/** The asynchronous hook, for `module.register` (Node 20). */
export async function resolve(
  specifier: string,
  context: ResolveContext,
  next: NextResolve,
): Promise<ResolveResult> {
  const resolved = await next(specifier, context);
  const format = entryFormat(resolved, context);
  return format ? { ...resolved, format } : resolved;
}
