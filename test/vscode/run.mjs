// Runs the tests in a real VS Code (code-server in headless Chromium), as a user gets the extension:
// packaged as a .vsix and installed. `npm run test:vscode`, or one file:
//   node test/vscode/run.mjs test/vscode/smoke.test.ts [--test-name-pattern=probe]
// Finds or installs the tools (scripts/vscode-tools.mjs), packages the extension (`npm run
// package`; LOCKSCOPE_VSIX=file.vsix uses that one instead), then runs the test files with
// node:test, one file at a time, each with its own code-server. `--tap FILE` also writes a TAP
// report there (scripts/test.mjs counts the results from it). Other `--` options go to node --test.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureVsCodeTools } from '../../scripts/vscode-tools.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const args = process.argv.slice(2);
const files = [];
const testOptions = [];
let tap;
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === '--tap') tap = resolve(args[++i]);
  else if (arg.startsWith('--')) testOptions.push(arg);
  else files.push(relative(repo, resolve(arg)));
}
process.chdir(repo);
if (files.length === 0) {
  for (const f of readdirSync('test/vscode').sort()) {
    if (f.endsWith('.test.ts')) files.push(join('test/vscode', f));
  }
}

let tools;
try {
  tools = ensureVsCodeTools({ install: true });
} catch (err) {
  console.error(`\nThe VS Code tests cannot run: ${err.message}`);
  process.exit(1);
}

let vsix = process.env.LOCKSCOPE_VSIX;
if (vsix) {
  vsix = resolve(vsix);
} else {
  const r = spawnSync('npm', ['run', '--silent', 'package'], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`\nnpm run package failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
  vsix = resolve('dist/lockscope.vsix');
}

const keep = process.env.LOCKSCOPE_VSCODE_KEEP === '1';
const nodeArgs = ['--import', 'tsx', '--test', '--test-concurrency=1'];
// A step that hangs fails the file after 5 minutes, rather than the run never ending; kept-alive
// sessions wait for Control+C instead.
if (!keep) nodeArgs.push('--test-timeout=300000');
nodeArgs.push('--test-reporter', 'spec', '--test-reporter-destination', 'stdout');
if (tap) nodeArgs.push('--test-reporter', 'tap', '--test-reporter-destination', tap);
const config = { chromium: tools.chromium, node: tools.node, entry: tools.entry, vsix };
console.log(`code-server ${tools.version} on ${tools.node}; chromium ${tools.chromium}; ${vsix}`);
const r = spawnSync(process.execPath, [...nodeArgs, ...testOptions, ...files], {
  stdio: 'inherit',
  env: { ...process.env, LOCKSCOPE_VSCODE_CONFIG: JSON.stringify(config) },
});
console.log(`Screenshots and logs: ${join(repo, 'test', 'artifacts', 'vscode')}`);
process.exit(r.status ?? 1);
