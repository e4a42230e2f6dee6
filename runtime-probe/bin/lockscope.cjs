#!/usr/bin/env node
// The `lockscope` command. It loads the built CLI (dist/cli.cjs). This file is committed so that
// npm can link the bin right after `npm ci`, before anything is built; in the Lockscope
// repository, where the build may not have run yet, it builds the probe first. The published
// package ships dist/ and no sources, so it never builds at run time.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const cli = join(__dirname, '..', 'dist', 'cli.cjs');
if (!existsSync(cli)) {
  const repo = join(__dirname, '..', '..');
  const buildScript = join(repo, 'esbuild.mjs');
  if (!existsSync(join(__dirname, '..', 'src', 'cli.ts')) || !existsSync(buildScript)) {
    process.stderr.write(`lockscope: the package is incomplete: ${cli} is missing; reinstall it\n`);
    process.exit(2);
  }
  process.stderr.write('lockscope: building the probe first (node esbuild.mjs --no-types)...\n');
  const built = require('node:child_process').spawnSync(
    process.execPath,
    [buildScript, '--no-types'],
    { cwd: repo, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (built.status !== 0 || !existsSync(cli)) {
    process.stderr.write('lockscope: the build failed (see above); run `npm run build` to retry\n');
    process.exit(2);
  }
}
require(cli);
