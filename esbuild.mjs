// One build script, one entry per target:
//   probe      runtime-probe/src -> runtime-probe/dist (ESM and CJS, for the oldest Node we support)
//   cli        runtime-probe/src/cli.ts -> runtime-probe/dist/cli.cjs (the `lockscope` bin), and
//              the entry-format hook it loads, runtime-probe/dist/esm-entry{,-hooks}.mjs
//   extension  extension/src -> dist/extension (Node, CJS, `vscode` external)
//   webview    webview/src -> dist/webview (browser, IIFE)
//   report     webview/src/report.ts -> runtime-probe/dist/report-renderer.{js,css} (browser, IIFE,
//              minified), inlined by `lockscope` into its standalone HTML reports
// `node esbuild.mjs --watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

const watch = process.argv.includes('--watch');
const probeTarget = 'node20';
const probeDist = 'runtime-probe/dist';

const asyncMutexEntry = 'runtime-probe/src/async-mutex/index.ts';
const probeEntries = {
  index: 'runtime-probe/src/index.ts',
  protocol: 'runtime-probe/src/protocol.ts',
  collector: 'runtime-probe/src/collector.ts',
  analysis: 'runtime-probe/src/analysis/index.ts',
  report: 'runtime-probe/src/analysis/report.ts',
};
/**
 * The extension and the webview import the probe by package name (`lockscope/analysis`); they are
 * built from its sources, as tsconfig.base.json's `paths` maps them for the compiler, rather than
 * from dist/, which the same build writes.
 */
const fromSources = {
  alias: {
    'lockscope/analysis': './runtime-probe/src/analysis/index.ts',
    'lockscope/report': './runtime-probe/src/analysis/report.ts',
    'lockscope/protocol': './runtime-probe/src/protocol.ts',
    'lockscope/collector': './runtime-probe/src/collector.ts',
  },
};

/** @type {esbuild.BuildOptions[]} */
const targets = [
  ...['esm', 'cjs'].map((format) => ({
    // No source maps: the package does not ship the sources they would point at.
    entryPoints: probeEntries,
    outdir: probeDist,
    outExtension: { '.js': format === 'esm' ? '.mjs' : '.cjs' },
    bundle: true,
    platform: 'node',
    target: probeTarget,
    format,
    // module-dir.ts reads `__dirname` in the CommonJS build and `import.meta.url` in the ESM one.
    logOverride: { 'empty-import-meta': 'silent' },
    logLevel: 'warning',
  })),
  {
    // lockscope/async-mutex: one CommonJS bundle, which the ES module that writeRegisterShims
    // writes beside it re-exports, so that `import` and `require` give one set of classes and one
    // of each error constant (programs compare those by identity, `e === E_TIMEOUT`).
    entryPoints: { 'async-mutex': asyncMutexEntry },
    outdir: probeDist,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    target: probeTarget,
    format: 'cjs',
    logOverride: { 'empty-import-meta': 'silent' },
    logLevel: 'warning',
  },
  {
    // The entry-format hook that `lockscope run` loads after tsx (see loader/esm-entry-hooks.ts).
    entryPoints: {
      'esm-entry': 'runtime-probe/src/loader/esm-entry.ts',
      'esm-entry-hooks': 'runtime-probe/src/loader/esm-entry-hooks.ts',
      // The adapters' module hook on Node 20's loader thread (adapters/esm-hooks.ts).
      'adapter-hooks': 'runtime-probe/src/adapters/esm-hooks.ts',
    },
    outdir: probeDist,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: probeTarget,
    format: 'esm',
    logLevel: 'warning',
  },
  {
    entryPoints: ['runtime-probe/src/cli.ts'],
    outfile: `${probeDist}/cli.cjs`,
    bundle: true,
    platform: 'node',
    target: probeTarget,
    format: 'cjs',
    banner: { js: '#!/usr/bin/env node' },
    // report/html.ts finds the HTML renderer by `__dirname` in this bundle and by `import.meta.url`
    // when run from source; the branch that reads `import.meta` never runs here.
    logOverride: { 'empty-import-meta': 'silent' },
    logLevel: 'warning',
  },
  {
    entryPoints: ['extension/src/extension.ts'],
    outfile: 'dist/extension/extension.js',
    bundle: true,
    ...fromSources,
    // The code actions carry the TypeScript compiler (10 MB as written): minified, the
    // extension host parses a third of that when the window starts.
    minify: true,
    platform: 'node',
    target: probeTarget,
    format: 'cjs',
    external: ['vscode'],
    sourcemap: 'linked',
    logLevel: 'warning',
  },
  {
    // The extension's TypeScript loader for programs whose project has no tsx: a tiny register
    // file, and the hooks that carry the compiler (they run on a loader thread of their own).
    entryPoints: {
      'ts-register': 'extension/src/loader/register.mts',
      'ts-hooks': 'extension/src/loader/hooks.mts',
    },
    outdir: 'dist/extension',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: probeTarget,
    format: 'esm',
    // The compiler is CommonJS; in an ES module bundle it needs `require` and `__filename`.
    banner: {
      js: [
        "import { createRequire as __lsRequire } from 'node:module';",
        "import { fileURLToPath as __lsPath } from 'node:url';",
        'const require = __lsRequire(import.meta.url);',
        'const __filename = __lsPath(import.meta.url);',
        "const __dirname = __filename.replace(/[\\\\/][^\\\\/]*$/, '');",
      ].join(' '),
    },
    logLevel: 'warning',
  },
  {
    entryPoints: ['webview/src/main.ts'],
    outfile: 'dist/webview/main.js',
    bundle: true,
    ...fromSources,
    platform: 'browser',
    target: 'chrome120',
    format: 'iife',
    sourcemap: 'linked',
    logLevel: 'warning',
  },
  {
    // The renderer ships in the `lockscope` package, next to the CLI that inlines it. It is opened
    // from a file in any browser, not only in VS Code's Chromium, hence the wider target; no source
    // map, because an inlined script could not find one. The CSS that report.ts imports comes out
    // beside it as report-renderer.css.
    entryPoints: ['webview/src/report.ts'],
    outfile: `${probeDist}/report-renderer.js`,
    bundle: true,
    ...fromSources,
    minify: true,
    platform: 'browser',
    target: ['chrome111', 'firefox113', 'safari16.2'],
    format: 'iife',
    logLevel: 'warning',
  },
];

function writeRegisterShims() {
  // `lockscope/register` only has to load the probe early, so it re-uses the main bundle rather
  // than carrying a second copy of it.
  mkdirSync(probeDist, { recursive: true });
  // It also installs the adapters of the lock packages a program uses (adapters/install.ts).
  // It marks itself first (register-mark.ts), so that the probe, as it loads, knows it was loaded
  // by register and may leave identity tracking off while nothing records.
  const mark = "globalThis[Symbol.for('lockscope.register')] = true;\n";
  writeFileSync(`${probeDist}/register-mark.mjs`, mark);
  writeFileSync(
    `${probeDist}/register.mjs`,
    "import './register-mark.mjs';\nimport { registerProbe } from './index.mjs';\nregisterProbe();\n",
  );
  writeFileSync(
    `${probeDist}/register.cjs`,
    `'use strict';\n${mark}require('./index.cjs').registerProbe();\n`,
  );
  // A TypeScript worker's bootstrap imports it to learn whether the worker loads TypeScript.
  copyFileSync('runtime-probe/src/typescript-check.ts', `${probeDist}/typescript-check.ts`);
}

/**
 * lockscope/async-mutex's ES module: the CommonJS bundle's exports, re-exported by name (Node finds
 * them in the bundle, which esbuild annotates for its lexer), so that they are the same objects.
 * By name rather than `export *`: from Node 23 on, a CommonJS module's namespace also has a
 * `module.exports` name, which async-mutex's API does not. The names are the entry's own, which
 * esbuild reads from its source without bundling it.
 */
async function writeAsyncMutexModule() {
  const { metafile } = await esbuild.build({
    entryPoints: [asyncMutexEntry],
    format: 'esm',
    write: false,
    outdir: probeDist,
    metafile: true,
    logLevel: 'warning',
  });
  const names = Object.values(metafile.outputs).flatMap((output) => output.exports);
  writeFileSync(
    `${probeDist}/async-mutex.mjs`,
    `export { ${names.join(', ')} } from './async-mutex.cjs';\n`,
  );
}

/**
 * Declarations for both module formats: `.d.ts` for `import`, and a `.d.cts` twin of each for
 * `require`, whose relative imports name the `.cjs` files (TypeScript reads a `.d.ts` in this
 * `type: module` package as an ES module, which a CommonJS consumer may not require).
 */
function emitTypes() {
  execFileSync(
    process.execPath,
    ['node_modules/typescript/bin/tsc', '-p', 'runtime-probe/tsconfig.build.json'],
    {
      stdio: 'inherit',
    },
  );
  const root = `${probeDist}/types`;
  for (const file of readdirSync(root, { recursive: true })) {
    if (!String(file).endsWith('.d.ts')) continue;
    const text = readFileSync(join(root, file), 'utf8');
    // Every relative specifier: `from './x.js'`, `import('./x.js')`, `import './x.js'`.
    const cjs = text.replace(
      /(from\s+|import\(|import\s+)(['"])(\.{1,2}\/[^'"]*?)\.js\2/g,
      '$1$2$3.cjs$2',
    );
    writeFileSync(join(root, String(file).replace(/\.d\.ts$/, '.d.cts')), cjs);
  }
}

if (watch) {
  writeRegisterShims();
  await writeAsyncMutexModule();
  for (const options of targets) await (await esbuild.context(options)).watch();
  console.log('esbuild: watching');
} else {
  // A full build starts from nothing: the package is packed from this folder, and a file an older
  // build left there (a source map, an entry since removed) would be published with it. A quick
  // build (--no-types, which tests run while others read the folder) only writes over it.
  const full = !process.argv.includes('--no-types');
  if (full) rmSync(probeDist, { recursive: true, force: true });
  await Promise.all(targets.map((options) => esbuild.build(options)));
  writeRegisterShims();
  await writeAsyncMutexModule();
  if (full) emitTypes();
}
