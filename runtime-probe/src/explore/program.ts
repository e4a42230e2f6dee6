/**
 * The program under exploration, loaded once and evaluated afresh for every run in this process.
 *
 * ES modules cannot be unloaded, so importing the program once per run would keep every run's
 * modules. Instead it is bundled once with esbuild (TypeScript included): every import but
 * `lockscope` and Node's built-in modules goes inside, and the bundle is compiled into one
 * function whose body is the program's top level (an async function, so that a top-level await
 * stays one). Each call evaluates the whole program again with new module state; `lockscope` and
 * the built-ins come from the program's own `require`, the same instances every run.
 */
import { readFileSync } from 'node:fs';
import { builtinModules, createRequire, SourceMap } from 'node:module';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileFunction } from 'node:vm';
import type * as EsbuildApi from 'esbuild';
import { moduleDir } from '../module-dir.js';
import type { Message } from '../protocol.js';
import { registerSourceMap } from '../sites.js';

/** The part of lockscope's public API the explorer uses, from the program's own copy. */
export interface ProbeApi {
  subscribe(listener: (message: Message) => void): () => void;
  flushEvents(): void;
}

export interface Program {
  /** The program's file, absolute. */
  file: string;
  /** The name its bundle's frames carry. */
  bundleFile: string;
  /**
   * Evaluates the program afresh, with `surroundings` as its `console` and `process` (its own
   * code sees them, lockscope and Node's modules the real ones); settles when its top level
   * completes.
   */
  evaluate(surroundings: Surroundings): Promise<unknown>;
  /** The lockscope the program imports. */
  probe: ProbeApi;
  /** A stack trace with the bundle's frames at the program's own lines, and the explorer's cut. */
  mapStack(stack: string): string;
}

/** The globals a run gives the program in place of the process's own. */
export interface Surroundings {
  console: Console;
  process: NodeJS.Process;
  /**
   * Called when the program requires a module it shares with every run (lockscope, Node's
   * built-ins): returns it, or a run's own version of it (`worker_threads`, whose workers the
   * run counts).
   */
  host(id: string, load: (id: string) => unknown): unknown;
  /** The program's timer functions: the run's own, so that it can tell and end what they left. */
  timers: RunTimers;
}

/** The timer functions a run gives the program in place of the globals. */
export interface RunTimers {
  setTimeout: typeof setTimeout;
  setInterval: typeof setInterval;
  setImmediate: typeof setImmediate;
  clearTimeout: typeof clearTimeout;
  clearInterval: typeof clearInterval;
  clearImmediate: typeof clearImmediate;
}

const TIMER_NAMES = [
  'setTimeout',
  'setInterval',
  'setImmediate',
  'clearTimeout',
  'clearInterval',
  'clearImmediate',
] as const;

/** The program cannot be explored: the message says why and what to do. */
export class ProgramError extends Error {}

const BUILTINS = new Set(builtinModules);

/** Modules every run shares: lockscope, and Node's built-ins (which esbuild would import). */
const hostModules: EsbuildApi.Plugin = {
  name: 'lockscope-host-modules',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      const bare = args.path.startsWith('node:') ? args.path.slice(5) : args.path;
      const host =
        args.path === 'lockscope' ||
        args.path.startsWith('lockscope/') ||
        BUILTINS.has(bare.split('/')[0]!) ||
        BUILTINS.has(bare);
      return host ? { path: args.path, namespace: 'host' } : undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'host' }, (args) => ({
      contents: `module.exports = __lockscope_require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

/** esbuild, from the program's project, its tsx, or lockscope's own install. */
function loadEsbuild(file: string): typeof EsbuildApi {
  const fromProgram = createRequire(file);
  const tries: (() => unknown)[] = [
    () => fromProgram('esbuild') as unknown,
    () => createRequire(fromProgram.resolve('tsx/package.json'))('esbuild') as unknown,
    () => createRequire(join(moduleDir(), 'index.js'))('esbuild') as unknown,
  ];
  for (const attempt of tries) {
    try {
      return attempt() as typeof EsbuildApi;
    } catch {
      // The next place.
    }
  }
  throw new ProgramError(
    'explore bundles the program with esbuild, which comes with tsx: npm install --save-dev tsx',
  );
}

export async function loadProgram(file: string): Promise<Program> {
  try {
    readFileSync(file);
  } catch (err) {
    throw new ProgramError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const esbuild = loadEsbuild(file);
  const dir = dirname(file);
  const bundleFile = join(dir, `${basename(file)}.lockscope-explore.js`);
  let result: EsbuildApi.BuildResult & { outputFiles: EsbuildApi.OutputFile[] };
  try {
    result = await esbuild.build({
      stdin: {
        contents: `import ${JSON.stringify(`./${basename(file)}`)};`,
        resolveDir: dir,
        loader: 'js',
      },
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: `node${process.versions.node.split('.')[0]}`,
      write: false,
      outfile: bundleFile,
      sourcemap: 'external',
      sourcesContent: false,
      logLevel: 'silent',
      define: {
        'import.meta.url': '__lockscope_url',
        'import.meta.filename': '__lockscope_filename',
        'import.meta.dirname': '__lockscope_dirname',
      },
      plugins: [hostModules],
    });
  } catch (err) {
    const errors = (err as { errors?: EsbuildApi.Message[] }).errors;
    const text = errors?.length
      ? errors
          .map((e) => `${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`)
          .join('\n')
      : String(err);
    throw new ProgramError(`cannot bundle ${file}:\n${text}`);
  }
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
  const map = result.outputFiles.find((f) => f.path.endsWith('.map'))!.text;
  const sourceMap = new SourceMap(JSON.parse(map) as ConstructorParameters<typeof SourceMap>[0]);
  registerSourceMap(bundleFile, sourceMap);
  // On the bundle's first line, so that its lines keep their numbers for the source map.
  const body = `return (async () => {${js}\n})();`;
  const params = [
    '__lockscope_require',
    'require',
    '__lockscope_url',
    '__lockscope_filename',
    '__lockscope_dirname',
    'console',
    'process',
    ...TIMER_NAMES,
  ];
  const compiled = compileFunction(body, params, { filename: bundleFile }) as (
    ...args: unknown[]
  ) => Promise<unknown>;
  const require = createRequire(file);
  const url = pathToFileURL(file).href;
  return {
    file,
    bundleFile,
    evaluate: (s) => {
      const host = (id: string): unknown => s.host(id, require);
      const timers = TIMER_NAMES.map((name) => s.timers[name]);
      return compiled(host, require, url, file, dir, s.console, s.process, ...timers);
    },
    probe: require('lockscope') as ProbeApi,
    mapStack: (stack) => mapStack(stack, bundleFile, dir, sourceMap),
  };
}

/** Frames of the bundle at the program's lines; frames after the program's own are dropped. */
function mapStack(stack: string, bundleFile: string, dir: string, map: SourceMap): string {
  const out: string[] = [];
  for (const line of stack.split('\n')) {
    const at = line.indexOf(`${bundleFile}:`);
    if (at < 0) {
      // The explorer's frames, and Node's below them, say nothing about the program.
      if (/^\s+at /.test(line) && out.some((l) => /^\s+at /.test(l))) break;
      out.push(line);
      continue;
    }
    const m = /^(\d+):(\d+)/.exec(line.slice(at + bundleFile.length + 1));
    const entry = m
      ? (map.findEntry(Number(m[1]) - 1, Number(m[2]) - 1) as Partial<{
          originalSource: string;
          originalLine: number;
          originalColumn: number;
        }>)
      : {};
    if (!m || entry.originalSource === undefined || entry.originalLine === undefined) {
      out.push(line);
      continue;
    }
    const source = resolvePath(dir, entry.originalSource);
    out.push(
      line.slice(0, at) +
        `${source}:${entry.originalLine + 1}:${(entry.originalColumn ?? 0) + 1}` +
        line.slice(at + bundleFile.length + 1 + m[0].length),
    );
  }
  return out.join('\n');
}
