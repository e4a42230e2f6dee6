/**
 * The extension in VS Code's desktop build, through @vscode/test-electron (`npm run
 * test:electron`), for machines that can download VS Code. Where no VS Code build is cached in
 * ~/.cache/lockscope/vscode-test and the download service cannot be reached, it says that it was
 * skipped and why, within seconds, and exits 0: it never passes silently and never hangs. The
 * tests in a real VS Code that run everywhere are test/vscode (code-server).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  downloadAndUnzipVSCode,
  ProgressReportStage,
  runTests,
  type ProgressReport,
} from '@vscode/test-electron';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
// Beside the other test tools (scripts/tools.mjs: cacheDir()), not in the work tree.
const CACHE = join(
  process.env.LOCKSCOPE_TOOL_CACHE ?? join(homedir(), '.cache', 'lockscope'),
  'vscode-test',
);
/** How long finding out which VS Code to use may take (it asks the update service). */
const RESOLVE_TIMEOUT_MS = 20_000;

/**
 * Says why the harness cannot run here and exits 0. Under `npm test`, the reason also goes to
 * LOCKSCOPE_SKIP_FILE, so that the summary lists this step as skipped and never as passed.
 */
function skip(reason: string): never {
  console.log(`skipped: ${reason}`);
  if (process.env.LOCKSCOPE_SKIP_FILE) writeFileSync(process.env.LOCKSCOPE_SKIP_FILE, reason);
  process.exit(0);
}

function cachedBuilds(): string[] {
  if (!existsSync(CACHE)) return [];
  return readdirSync(CACHE).filter(
    (d) => d.startsWith('vscode-') && existsSync(join(CACHE, d, 'is-complete')),
  );
}

async function findVsCode(): Promise<string> {
  let resolved = false;
  const reporter = {
    report(report: ProgressReport) {
      if (report.stage === ProgressReportStage.ResolvedVersion) {
        resolved = true;
        console.log(`VS Code ${report.version}`);
      } else if (report.stage === ProgressReportStage.NewInstallComplete) {
        console.log(`VS Code installed in ${report.downloadedPath}`);
      }
    },
    error(err: unknown) {
      console.error(err);
    },
  };
  const download = downloadAndUnzipVSCode({
    cachePath: CACHE,
    extensionDevelopmentPath: REPO,
    timeout: 10_000,
    reporter,
    ...(process.env.LOCKSCOPE_VSCODE_VERSION
      ? { version: process.env.LOCKSCOPE_VSCODE_VERSION }
      : {}),
  });
  // Only the question "which version" is bounded here; a download that has started may take as
  // long as it needs (its own idle timeout ends a stalled one).
  let timer: NodeJS.Timeout | undefined;
  const unanswered = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      if (!resolved) reject(new Error(`no answer within ${RESOLVE_TIMEOUT_MS / 1000} s`));
    }, RESOLVE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([download, unanswered]);
  } finally {
    clearTimeout(timer);
  }
}

const cached = cachedBuilds();
let vscodeExecutablePath: string;
try {
  vscodeExecutablePath = await findVsCode();
} catch (err) {
  if (cached.length) throw err;
  skip(
    `it needs to download VS Code, which this machine cannot reach (no build in ${CACHE}; the download failed: ${(err as Error).message})`,
  );
}
if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
  skip('VS Code is there, but it needs a display: run `xvfb-run -a npm run test:electron`');
}

// The extension runs from this repository's dist/ (its development folder), the suite from a
// CommonJS bundle, as VS Code loads it.
execFileSync(process.execPath, ['esbuild.mjs', '--no-types'], { cwd: REPO, stdio: 'inherit' });
const suite = join(REPO, 'test', '.build', 'vscode-electron', 'suite.cjs');
execFileSync(
  process.execPath,
  [
    join(REPO, 'node_modules', 'esbuild', 'bin', 'esbuild'),
    join(REPO, 'test', 'vscode-electron', 'suite.ts'),
    '--bundle',
    '--platform=node',
    '--format=cjs',
    '--external:vscode',
    `--outfile=${suite}`,
    '--log-level=warning',
  ],
  { stdio: 'inherit' },
);
const root = mkdtempSync(join(tmpdir(), 'lockscope-electron-'));
const workspace = join(root, 'workspace');
cpSync(join(REPO, 'examples'), join(workspace, 'examples'), { recursive: true });
try {
  await runTests({
    vscodeExecutablePath,
    extensionDevelopmentPath: REPO,
    extensionTestsPath: suite,
    launchArgs: [
      workspace,
      '--user-data-dir',
      join(root, 'user-data'),
      '--extensions-dir',
      join(root, 'extensions'),
      '--disable-workspace-trust',
      '--disable-gpu',
      '--skip-welcome',
      '--skip-release-notes',
    ],
  });
  console.log('VS Code (electron) tests passed');
} catch (err) {
  console.error(`VS Code tests failed: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  rmSync(root, { recursive: true, force: true });
}
