// `npm test`: everything, in the order that fails fastest. Build, type check, lint and format,
// then the unit and integration tests on Node 20 (this Node) and on Node 24, then the webview in
// headless Chromium, then the packaged
// extension in a real VS Code (code-server in headless Chromium, test/vscode), and the
// @vscode/test-electron harness, which says it is skipped where VS Code cannot be downloaded.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureNode24 } from './tools.mjs';

const node = process.execPath;
const bin = (name) => join('node_modules', '.bin', name);

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

/** Adds the pass and fail counts of a TAP report to the totals. */
function count(tap) {
  const text = readFileSync(tap, 'utf8');
  for (const key of ['pass', 'fail']) {
    totals[key] += Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  }
}

function testFiles() {
  const files = [];
  for (const dir of ['test/unit', 'test/integration']) {
    for (const f of readdirSync(dir).sort()) if (f.endsWith('.test.ts')) files.push(join(dir, f));
  }
  return files;
}

step('build', node, ['esbuild.mjs']);
step('type check', node, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json']);
step('type check (webview)', node, ['node_modules/typescript/bin/tsc', '-p', 'webview']);
step('lint', bin('eslint'), ['--max-warnings', '0', '.']);
step('format', bin('prettier'), ['--check', '--log-level', 'warn', '.']);

const files = testFiles();
const node24 = ensureNode24();
const reports = mkdtempSync(join(tmpdir(), 'lockscope-test-'));
const totals = { pass: 0, fail: 0 };
const runs = [
  [`tests on Node ${process.versions.node}`, node],
  [`tests on Node ${execFileSync(node24, ['--version']).toString().trim().slice(1)}`, node24],
];
for (const [i, [label, exe]] of runs.entries()) {
  // The spec reporter is for people; a TAP copy in a file gives the counts for the last line.
  const tap = join(reports, `${i}.tap`);
  const args = ['--import', 'tsx', '--expose-gc', '--test'];
  args.push('--test-reporter', 'spec', '--test-reporter-destination', 'stdout');
  args.push('--test-reporter', 'tap', '--test-reporter-destination', tap);
  step(label, exe, [...args, ...files], { LOCKSCOPE_TEST_NODE: exe });
  count(tap);
}
// The webview in headless Chromium, with a stub VS Code API and reports from recorded traces.
const browserTap = join(reports, 'browser.tap');
const browserFiles = readdirSync('test/browser')
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => join('test/browser', f));
step('webview tests in Chromium', node, [
  '--import',
  'tsx',
  '--test',
  '--test-reporter',
  'spec',
  '--test-reporter-destination',
  'stdout',
  '--test-reporter',
  'tap',
  '--test-reporter-destination',
  browserTap,
  ...browserFiles,
]);
count(browserTap);
// code-server and Chromium are installed the first time (a few minutes) and reused; where they
// are missing and cannot be installed, this fails with the command to run.
const vscodeTap = join(reports, 'vscode.tap');
step('tests in VS Code (code-server)', node, ['test/vscode/run.mjs', '--tap', vscodeTap]);
count(vscodeTap);
step('tests in VS Code (@vscode/test-electron)', node, [
  '--import',
  'tsx',
  'test/vscode-electron/run.ts',
]);
rmSync(reports, { recursive: true, force: true });
console.log('\nAll checks and tests passed on Node 20 and Node 24, and in VS Code.');
console.log(`${totals.pass} passed, ${totals.fail} failed`);
