/**
 * Module customization hooks that transpile TypeScript with the compiler's `transpileModule`:
 * types are erased, `using` declarations are lowered for Node 20, and an inline source map keeps
 * every reported line a TypeScript line. No type checking: that is the editor's job.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

interface ResolveContext {
  parentURL?: string;
}
interface ResolveResult {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<ResolveResult>;
interface LoadResult {
  format: string;
  source?: string | Buffer;
  shortCircuit?: boolean;
}
type NextLoad = (url: string, context: object) => Promise<LoadResult>;

const TS = /\.(ts|mts|cts|tsx)$/;

export async function resolve(
  specifier: string,
  context: ResolveContext,
  next: NextResolve,
): Promise<ResolveResult> {
  try {
    return await next(specifier, context);
  } catch (err) {
    // TypeScript sources import `./x.js` for `./x.ts`: try the TypeScript file.
    const relative = specifier.startsWith('.') || specifier.startsWith('/');
    if (
      relative &&
      /\.(m|c)?js$/.test(specifier) &&
      context.parentURL &&
      TS.test(context.parentURL)
    ) {
      return next(specifier.replace(/js$/, 'ts'), context);
    }
    throw err;
  }
}

export async function load(url: string, context: object, next: NextLoad): Promise<LoadResult> {
  if (!url.startsWith('file:') || !TS.test(url)) return next(url, context);
  const fileName = fileURLToPath(url);
  const source = await readFile(fileName, 'utf8');
  const commonjs = url.endsWith('.cts');
  const out = ts.transpileModule(source, {
    fileName,
    compilerOptions: {
      module: commonjs ? ts.ModuleKind.CommonJS : ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      jsx: ts.JsxEmit.ReactJSX,
      inlineSourceMap: true,
      inlineSources: true,
      esModuleInterop: true,
    },
  });
  return { format: commonjs ? 'commonjs' : 'module', source: out.outputText, shortCircuit: true };
}
