/**
 * Starts a real VS Code for a test file: code-server (VS Code 1.139 served to a browser) with the
 * packaged extension installed from its .vsix, a throw-away profile and a workspace holding a copy
 * of the examples, and headless Chromium driven by playwright-core on its workbench. Everything is
 * stopped by `close()`, or when the process exits.
 *
 * `test/vscode/run.mjs` (npm run test:vscode) finds the tools, packages the extension and passes
 * both in LOCKSCOPE_VSCODE_CONFIG; see test/vscode/README.md.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test, type TestContext } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Workbench } from './workbench.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const ARTIFACTS = join(REPO, 'test', 'artifacts', 'vscode');

/** What run.mjs found: the browser, the Node 24 that runs code-server, its entry, the .vsix. */
export interface ToolConfig {
  chromium: string;
  node: string;
  entry: string;
  vsix: string;
}

export function toolConfig(): ToolConfig {
  const raw = process.env.LOCKSCOPE_VSCODE_CONFIG;
  if (!raw) {
    throw new Error(
      'LOCKSCOPE_VSCODE_CONFIG is not set: run the VS Code tests with `npm run test:vscode` ' +
        '(or `node test/vscode/run.mjs test/vscode/<file>.test.ts`), which installs the tools and ' +
        'packages the extension first',
    );
  }
  return JSON.parse(raw) as ToolConfig;
}

/** The extension's id, `publisher.name`, as VS Code knows it. */
export function extensionId(): string {
  const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
    publisher: string;
    name: string;
  };
  return `${manifest.publisher}.${manifest.name}`;
}

export interface VsCodeOptions {
  /** Names the artifact folder (test/artifacts/vscode/NAME): screenshots, logs. */
  name: string;
  /** User settings on top of the deterministic defaults below. */
  settings?: Record<string, unknown>;
  /** Extra files for the workspace, by path relative to it. */
  files?: Record<string, string>;
  /** Browser window size; the default is 1400 x 900. */
  viewport?: { width: number; height: number };
}

/** Settings that keep the workbench quiet and the same from run to run. */
export const DEFAULT_SETTINGS: Record<string, unknown> = {
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.enableExperiments': false,
  'workbench.settings.enableNaturalLanguageSearch': false,
  'workbench.editor.enablePreview': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.layoutControl.enabled': false,
  'chat.disableAIFeatures': true,
  'chat.commandCenter.enabled': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'git.enabled': false,
  'npm.fetchOnlinePackageInfo': false,
  'json.schemaDownload.enable': false,
  'typescript.disableAutomaticTypeAcquisition': true,
  'typescript.tsserver.web.typeAcquisition.enabled': false,
  'editor.minimap.enabled': false,
  'editor.accessibilitySupport': 'off',
  'files.autoSave': 'off',
  'window.commandCenter': false,
};

/** A running code-server with a browser on its workbench. */
export interface VsCode {
  readonly workbench: Workbench;
  readonly page: Page;
  readonly url: string;
  /** The workspace folder VS Code has open (a temporary copy). */
  readonly workspace: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  /** Where screenshots and logs of this session go. */
  readonly artifacts: string;
  /** Console errors and uncaught exceptions of the workbench page, in order. */
  readonly pageErrors: string[];
  close(): Promise<void>;
}

const headed = process.env.LOCKSCOPE_VSCODE_HEADED === '1';
export const keepAlive = process.env.LOCKSCOPE_VSCODE_KEEP === '1';

export async function startVsCode(options: VsCodeOptions): Promise<VsCode> {
  const tools = toolConfig();
  const root = mkdtempSync(join(tmpdir(), 'lockscope-vscode-'));
  const userDataDir = join(root, 'user-data');
  const extensionsDir = join(root, 'extensions');
  const workspace = join(root, 'workspace');
  const artifacts = join(ARTIFACTS, options.name);
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(
    join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...DEFAULT_SETTINGS, ...options.settings }, null, 2),
  );
  makeWorkspace(workspace, options.files ?? {});

  // code-server keeps its own state under XDG_DATA_HOME and its config under XDG_CONFIG_HOME;
  // both go into the throw-away folder.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_DATA_HOME: join(root, 'xdg-data'),
    XDG_CONFIG_HOME: join(root, 'xdg-config'),
    // No extension gallery: nothing to look up on a network this machine does not reach.
    EXTENSIONS_GALLERY: process.env.EXTENSIONS_GALLERY ?? '{}',
  };
  delete env.LOCKSCOPE_VSCODE_CONFIG;
  const config = join(root, 'config.yaml');
  writeFileSync(config, 'auth: none\ncert: false\n');
  const common = ['--config', config, '--user-data-dir', userDataDir];
  common.push('--extensions-dir', extensionsDir);

  try {
    installExtension(tools, common, env);
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }

  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const log = createWriteStream(join(artifacts, 'code-server.log'));
  const server = spawn(
    tools.node,
    [
      tools.entry,
      ...common,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--ignore-last-opened',
      workspace,
    ],
    // Its own process group, so that close() ends the extension host and the rest with it.
    { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stdout?.pipe(log);
  server.stderr?.pipe(log);
  // However this process ends, code-server's process group ends with it: on exit, and on the
  // signals that would otherwise end it without an exit event (Control+C, the runner's SIGTERM).
  const killOnExit = () => {
    killGroup(server, 'SIGKILL');
    if (!keepAlive) rmSync(root, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', killOnExit);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  const pageErrors: string[] = [];
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await stopServer(server);
    process.off('exit', killOnExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    log.end();
    // VS Code's own logs (extension host, the extension's output channels) for a failed run.
    const logs = join(userDataDir, 'logs');
    if (existsSync(logs)) cpSync(logs, join(artifacts, 'logs'), { recursive: true });
    if (!keepAlive) rmSync(root, { recursive: true, force: true });
  };

  try {
    await waitForServer(url, server, join(artifacts, 'code-server.log'));
    browser = await chromium.launch({
      executablePath: tools.chromium,
      headless: !headed,
      slowMo: Number(process.env.LOCKSCOPE_VSCODE_SLOWMO ?? 0),
      // The handlers above end this process; Playwright's own exit hook then ends the browser.
      handleSIGINT: false,
      handleSIGTERM: false,
      // As root Chromium needs --no-sandbox; the rest keeps it from calling out to the network,
      // which this machine refuses.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    context = await browser.newContext({
      viewport: options.viewport ?? { width: 1400, height: 900 },
      colorScheme: 'dark',
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(`console.error: ${m.text()}`);
    });
    page.on('pageerror', (err) => pageErrors.push(`page error: ${err.message}`));
    await page.goto(`${url}?folder=${encodeURIComponent(workspace)}`);
    const workbench = new Workbench(page, artifacts);
    await workbench.waitForReady();
    return {
      workbench,
      page,
      url,
      workspace,
      userDataDir,
      extensionsDir,
      artifacts,
      pageErrors,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Installs the .vsix as a user does (`--install-extension`), and checks that it is listed. */
function installExtension(tools: ToolConfig, common: string[], env: NodeJS.ProcessEnv): void {
  const run = (args: string[]) =>
    execFileSync(tools.node, [tools.entry, ...common, ...args], {
      encoding: 'utf8',
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const installed = run(['--install-extension', tools.vsix, '--force']);
  const listed = run(['--list-extensions']);
  if (!listed.split('\n').includes(extensionId())) {
    throw new Error(`${tools.vsix} did not install: ${installed}\n--list-extensions: ${listed}`);
  }
}

function makeWorkspace(dir: string, files: Record<string, string>): void {
  // The examples as a user gets them from "Open Example...", with `lockscope` and tsx resolving
  // through the repository's node_modules (where `lockscope` is the workspace's runtime-probe).
  cpSync(join(REPO, 'examples'), join(dir, 'examples'), { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'lockscope-test-workspace', private: true, type: 'module' }, null, 2),
  );
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  for (const [path, text] of Object.entries(files)) {
    const file = join(dir, path);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, text);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForServer(url: string, server: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null || server.signalCode !== null) {
      throw new Error(
        `code-server exited (${server.exitCode ?? server.signalCode}) before serving:\n${tail(logFile)}`,
      );
    }
    try {
      const res = await fetch(`${url}healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not serve ${url} within 60 s:\n${tail(logFile)}`);
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  killGroup(server, 'SIGTERM');
  const timer = setTimeout(() => killGroup(server, 'SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
  // Whatever it started in its group and that outlived it.
  if (server.pid !== undefined) {
    try {
      process.kill(-server.pid, 'SIGKILL');
    } catch {
      // The group is empty.
    }
  }
}

/** A VS Code shared by the tests of one file, started before the first and closed after the last. */
export interface VsCodeSession {
  readonly vscode: VsCode;
  readonly workbench: Workbench;
  /**
   * A node:test test that gets the workbench; when it fails, a screenshot of the window is saved
   * as ARTIFACTS/failed-<name>.png before the error is reported.
   */
  test(name: string, fn: (workbench: Workbench, t: TestContext) => Promise<void>): void;
}

/**
 * Registers before() and after() hooks that start and close one VS Code for the tests of this
 * file. With LOCKSCOPE_VSCODE_KEEP=1 it is left running after the tests (its URL is printed)
 * until Control+C.
 */
export function useVsCode(options: VsCodeOptions): VsCodeSession {
  let vscode: VsCode | undefined;
  before(async () => {
    vscode = await startVsCode(options);
  });
  after(async () => {
    if (!vscode) return;
    if (keepAlive) {
      const { url, workspace, userDataDir } = vscode;
      console.log(
        `VS Code kept alive at ${url}?folder=${encodeURIComponent(workspace)} ` +
          `(user data ${userDataDir}); Control+C ends it`,
      );
      await new Promise(() => {});
    }
    await vscode.close();
  });
  const started = (): VsCode => {
    if (!vscode) throw new Error("VS Code did not start (see the before hook's error)");
    return vscode;
  };
  return {
    get vscode() {
      return started();
    },
    get workbench() {
      return started().workbench;
    },
    test(name, fn) {
      test(name, async (t) => {
        const { workbench } = started();
        try {
          await fn(workbench, t);
        } catch (err) {
          const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
          const shot = await workbench.screenshot(`failed-${slug}`).catch(() => undefined);
          if (shot) t.diagnostic(`screenshot: ${shot}`);
          throw err;
        }
      });
    },
  };
}
