// `npm test`: everything, in the order that fails fastest. Build, type check, lint and format,
// then the unit and integration tests on Node 20 (this Node) and on Node 24.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
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
for (const [label, exe] of [
  [`tests on Node ${process.versions.node}`, node],
  [`tests on Node ${execFileSync(node24, ['--version']).toString().trim().slice(1)}`, node24],
]) {
  step(
    label,
    exe,
    ['--import', 'tsx', '--expose-gc', '--test', '--test-reporter', 'spec', ...files],
    {
      LOCKSCOPE_TEST_NODE: exe,
    },
  );
}
console.log('\nAll checks and tests passed on Node 20 and Node 24.');
