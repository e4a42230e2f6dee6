// `npm test`: everything, in the order that fails fastest, on a machine that has never run it.
// First the set-up: the tools the tests need are installed once and reused (Node 24 and
// code-server into ~/.cache/lockscope from the npm registry; Chromium, the headers code-server
// builds against, and the Redis and PostgreSQL servers from Debian's packages, as root). Without root, a missing Debian package stops
// the run at once with the exact command to run. Then build, type check, lint and format, the
// unit and integration tests on Node 20 (this Node) and on Node 24, the webview in headless
// Chromium, the packaged extension in a real VS Code (code-server), and the @vscode/test-electron
// harness, which is reported as skipped (never as passed) where VS Code cannot be downloaded.
//
// `npm run test:long` (`--long`) runs the long forms of the loops instead (stress loops, huge
// traces, property and exploration counts: `test/loops.ts`), on Node 20 and Node 24 only.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureNode24 } from './tools.mjs';
import { ensureServers, ensureVsCodeTools } from './vscode-tools.mjs';

const long = process.argv.includes('--long');
const node = process.execPath;
const bin = (name) => join('node_modules', '.bin', name);
const started = Date.now();
const totals = { pass: 0, fail: 0, skip: 0 };
/** Steps that could not run, with why: named in the summary and never counted as passed. */
const skipped = [];

function step(title, cmd, args, env = {}) {
  console.log(`\n== ${title}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) {
    console.error(
      `\n${title} failed (exit ${r.status ?? r.signal}). Command: ${[cmd, ...args].join(' ')}`,
    );
    process.exit(r.status || 1);
  }
}

/** Adds the pass, fail and skip counts of a TAP report to the totals. */
function count(tap) {
  const text = readFileSync(tap, 'utf8');
  // node:test's TAP says `# skipped N`; a skipped test (one that cannot run here, with its
  // reason) is counted as skipped, never as passed.
  for (const [key, label] of [
    ['pass', 'pass'],
    ['fail', 'fail'],
    ['skip', 'skipped'],
  ]) {
    totals[key] += Number(new RegExp(`^# ${label} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  }
}

function testFiles() {
  const files = [];
  for (const dir of ['test/unit', 'test/integration']) {
    for (const f of readdirSync(dir).sort()) if (f.endsWith('.test.ts')) files.push(join(dir, f));
  }
  return files;
}

/** node --test with a spec reporter for people and a TAP copy in a file for the counts. */
function nodeTest(title, exe, files, env = {}) {
  const tap = join(reports, `${title.replace(/\W+/g, '-')}.tap`);
  const args = ['--import', 'tsx', '--expose-gc', '--test'];
  args.push('--test-reporter', 'spec', '--test-reporter-destination', 'stdout');
  args.push('--test-reporter', 'tap', '--test-reporter-destination', tap);
  step(title, exe, [...args, ...files], env);
  count(tap);
}

// Set-up, before anything else, so that a machine that lacks something says so at once.
console.log('== set-up');
let tools;
try {
  tools = long ? { node: ensureNode24() } : ensureVsCodeTools({ install: true });
  ensureServers({ install: true });
} catch (err) {
  console.error(`\nnpm test cannot set up its tools: ${err.message}`);
  process.exit(1);
}
const node24 = tools.node;

step('build', node, ['esbuild.mjs']);
step('type check', node, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json']);
step('type check (extension)', node, ['node_modules/typescript/bin/tsc', '-p', 'extension']);
step('type check (webview)', node, ['node_modules/typescript/bin/tsc', '-p', 'webview']);
// The probe on its own, with Node's types only: the compiler holds it free of vscode and the DOM.
step('type check (runtime-probe)', node, [
  'node_modules/typescript/bin/tsc',
  '-p',
  'runtime-probe',
]);
step('lint', bin('eslint'), ['--max-warnings', '0', '.']);
step('format', bin('prettier'), ['--check', '--log-level', 'warn', '.']);

const reports = mkdtempSync(join(tmpdir(), 'lockscope-test-'));
const form = long ? 'long' : 'short';
const loopEnv = { LOCKSCOPE_TEST_LOOPS: form };
for (const exe of [node, node24]) {
  const version = execFileSync(exe, ['--version']).toString().trim().slice(1);
  nodeTest(`tests on Node ${version} (${form} loops)`, exe, testFiles(), {
    ...loopEnv,
    LOCKSCOPE_TEST_NODE: exe,
  });
}

if (long) {
  skipped.push('webview and VS Code tests: `npm test` runs them; they have no long form');
} else {
  // The webview in headless Chromium, with a stub VS Code API and reports from recorded traces.
  const browserFiles = readdirSync('test/browser')
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => join('test/browser', f));
  nodeTest('webview tests in Chromium', node, browserFiles, {
    LOCKSCOPE_CHROMIUM: tools.chromium,
  });

  // The packaged extension in code-server, the tools found above.
  const vscodeTap = join(reports, 'vscode.tap');
  step('tests in VS Code (code-server)', node, ['test/vscode/run.mjs', '--tap', vscodeTap]);
  count(vscodeTap);

  // The desktop harness writes why it could not run into the skip file instead of passing.
  const skipFile = join(reports, 'electron.skip');
  step(
    'tests in VS Code (@vscode/test-electron)',
    node,
    ['--import', 'tsx', 'test/vscode-electron/run.ts'],
    { LOCKSCOPE_SKIP_FILE: skipFile },
  );
  if (existsSync(skipFile)) {
    skipped.push(
      `VS Code desktop tests (@vscode/test-electron): ${readFileSync(skipFile, 'utf8')}`,
    );
  }
}
rmSync(reports, { recursive: true, force: true });

const minutes = ((Date.now() - started) / 60_000).toFixed(1);
console.log(`\nnpm ${long ? 'run test:long' : 'test'} finished in ${minutes} min.`);
for (const why of skipped) console.log(`skipped step: ${why}`);
console.log(
  `${totals.pass} passed, ${totals.fail} failed, ${totals.skip + skipped.length} skipped`,
);
