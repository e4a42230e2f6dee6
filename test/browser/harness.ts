/**
 * Loads the webview bundle (dist/webview/main.js and main.css, as the extension ships them) in
 * headless Chromium, in the very document the extension host writes (its content security policy
 * included), with a stub of VS Code's webview API that records what the page posts and keeps its
 * state, and VS Code's theme variables and body class. Reports come from recorded traces, analysed
 * here and packed as the host packs them.
 *
 * Chromium is Debian's package, driven by playwright-core; nothing is downloaded. Without it the
 * tests fail, saying how to install it: a browser test that passes without a browser proves
 * nothing.
 */
import { SETTINGS } from '../../extension/src/contributions.js';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { webviewHtml } from '../../extension/src/webview-html.js';
import { analyzeTrace } from '../../runtime-probe/src/analysis/trace.js';
import type { Report } from '../../runtime-probe/src/analysis/types.js';
import type { DebugSnapshot, LockscopeDebug } from '../../webview/src/debug.js';
import { reportMessage, type ToWebview } from '../../webview/src/protocol.js';
import { THEMES, type ThemeName } from './themes.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ARTIFACTS = join(ROOT, 'test/artifacts/browser');
const DIST = join(ROOT, 'dist/webview');
const ORIGIN = 'https://webview.test';

/** The intervals the host sends with each report by default (`lockscope.playbackIntervals`). */
export const LIVE_INTERVALS = SETTINGS.playbackIntervals.default;

export const INSTALL_CHROMIUM = 'apt-get install -y chromium';

/**
 * The Chromium on this machine (LOCKSCOPE_CHROMIUM when set, else Debian's on PATH), or an error
 * that says how to install it.
 */
export function chromiumPath(): string {
  const candidates: string[] = [];
  const chosen = process.env.LOCKSCOPE_CHROMIUM;
  if (chosen) {
    candidates.push(chosen);
  } else {
    candidates.push('/usr/bin/chromium');
    for (const name of ['chromium', 'chromium-browser']) {
      try {
        candidates.push(execFileSync('which', [name], { encoding: 'utf8' }).trim());
      } catch {
        // Not on PATH under this name.
      }
    }
  }
  const found = candidates.find((c) => c && existsSync(c));
  if (!found) {
    throw new Error(
      `Chromium is not installed${chosen ? ` at ${chosen}` : ''}, so the webview cannot be ` +
        `tested in a browser. Install it with: ${INSTALL_CHROMIUM}`,
    );
  }
  return found;
}

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true });
}

/**
 * Builds the webview bundle when it is missing or older than its sources, so the tests never run
 * against a stale build.
 */
export function ensureWebviewBuild(): void {
  const bundle = join(DIST, 'main.js');
  const built = existsSync(bundle) && existsSync(join(DIST, 'main.css')) ? mtime(bundle) : 0;
  const newest = Math.max(
    newestIn(join(ROOT, 'webview/src')),
    newestIn(join(ROOT, 'runtime-probe/src/analysis')),
  );
  if (built >= newest) return;
  execFileSync(process.execPath, [join(ROOT, 'esbuild.mjs'), '--no-types'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}

function mtime(path: string): number {
  return statSync(path).mtimeMs;
}

function newestIn(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(path) : mtime(path));
  }
  return newest;
}

/** The report of a recorded trace in test/fixtures/traces. */
export function reportOf(trace: string): Report {
  const text = readFileSync(join(ROOT, 'test/fixtures/traces', `${trace}.jsonl`), 'utf8');
  return analyzeTrace(text).report();
}

/** The `didReport` the host would post for `report`. */
export function didReport(report: Report, live: boolean): ToWebview {
  return reportMessage(report, live, LIVE_INTERVALS);
}

export interface WebviewPage {
  page: Page;
  /** Console errors and warnings, uncaught exceptions and CSP violations seen so far. */
  problems: string[];
  post(message: unknown): Promise<void>;
  posted(): Promise<unknown[]>;
  savedState(): Promise<unknown>;
  snapshot(): Promise<DebugSnapshot>;
  /** Waits until the graph's layout has come to rest and both canvases have drawn. */
  settled(): Promise<DebugSnapshot>;
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export interface OpenOptions {
  theme?: ThemeName;
  width?: number;
  height?: number;
  /** What `getState()` returns: the state a previous load of the panel saved. */
  state?: unknown;
  /** A script to run before the page's own (after the VS Code API's stub). */
  initScript?: string;
}

/** Opens the webview as VS Code would show it in a panel. */
export async function openWebview(
  browser: Browser,
  options: OpenOptions = {},
): Promise<WebviewPage> {
  const theme = THEMES[options.theme ?? 'dark'];
  const page = await browser.newPage({
    viewport: { width: options.width ?? 1200, height: options.height ?? 760 },
    colorScheme: options.theme === 'light' ? 'light' : 'dark',
  });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning')
      problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  await page.addInitScript({ content: NAME_SHIM });
  await page.addInitScript({
    content: stubScript(theme.bodyClass, theme.kind, theme.variables, options.state),
  });
  if (options.initScript) await page.addInitScript({ content: options.initScript });
  await page.route(`${ORIGIN}/**`, async (route) => {
    const name = new URL(route.request().url()).pathname.slice(1);
    if (name === 'index.html') {
      await route.fulfill({
        contentType: 'text/html',
        body: webviewHtml({
          cspSource: ORIGIN,
          scriptUri: `${ORIGIN}/main.js`,
          styleUri: `${ORIGIN}/main.css`,
          nonce: randomBytes(16).toString('base64'),
        }),
      });
      return;
    }
    const file = join(DIST, name);
    if (!/^[\w.-]+$/.test(name) || !existsSync(file)) {
      await route.fulfill({ status: 404, body: '' });
      return;
    }
    await route.fulfill({
      contentType: name.endsWith('.css') ? 'text/css' : 'text/javascript',
      body: readFileSync(file),
    });
  });
  await page.goto(`${ORIGIN}/index.html`);
  await page.waitForFunction(
    () => (globalThis as unknown as { __lockscope?: LockscopeDebug }).__lockscope !== undefined,
  );
  return wrap(page, problems);
}

/** Opens a page from a file (the standalone HTML report). */
export async function openFile(
  browser: Browser,
  file: string,
  options: { width?: number; height?: number; light?: boolean } = {},
): Promise<WebviewPage> {
  const page = await browser.newPage({
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
    colorScheme: options.light ? 'light' : 'dark',
  });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning')
      problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  await page.addInitScript({ content: NAME_SHIM });
  await page.goto(`file://${file}`);
  await page.waitForFunction(
    () => (globalThis as unknown as { __lockscope?: LockscopeDebug }).__lockscope !== undefined,
  );
  return wrap(page, problems);
}

// The functions passed to `page.evaluate` and `waitForFunction` run in the page, sent as source
// (the page's content security policy forbids evaluating strings there, so no string predicates):
// they may only use what they are given and the page's globals.

/**
 * tsx compiles the tests with esbuild's `keepNames`, which wraps every named function in a call to
 * a helper, `__name`, that exists in Node but not in the page the function is sent to. The page
 * gets a helper that does nothing.
 */
const NAME_SHIM = 'globalThis.__name = globalThis.__name || ((fn) => fn);';

function wrap(page: Page, problems: string[]): WebviewPage {
  const snapshot = (): Promise<DebugSnapshot> =>
    page.evaluate(() =>
      (globalThis as unknown as { __lockscope: LockscopeDebug }).__lockscope.snapshot(),
    );
  return {
    page,
    problems,
    async post(message) {
      await page.evaluate((m) => {
        (globalThis as unknown as { postMessage(m: unknown, o: string): void }).postMessage(m, '*');
      }, message);
    },
    posted: () => page.evaluate(() => (globalThis as unknown as { __posted: unknown[] }).__posted),
    savedState: () => page.evaluate(() => (globalThis as unknown as { __state: unknown }).__state),
    snapshot,
    async settled() {
      await page.waitForFunction(
        () => {
          const s = (
            globalThis as unknown as { __lockscope: LockscopeDebug }
          ).__lockscope.snapshot();
          return s.applied > 0 && s.graph.settled && s.graph.frames > 0 && s.timeline.frames > 0;
        },
        undefined,
        { timeout: 15_000, polling: 50 },
      );
      // Two more frames, so that whatever the last state change asked for is drawn.
      await page.evaluate(
        () =>
          new Promise<void>((r) => {
            const raf = (
              globalThis as unknown as { requestAnimationFrame: (f: () => void) => void }
            ).requestAnimationFrame;
            raf(() => raf(() => r()));
          }),
      );
      return snapshot();
    },
    async screenshot(name) {
      mkdirSync(ARTIFACTS, { recursive: true });
      const path = join(ARTIFACTS, name);
      await page.screenshot({ path });
      return path;
    },
    close: () => page.close(),
  };
}

/**
 * The page's stub of `acquireVsCodeApi`, installed before any script of the page runs, and VS
 * Code's theme: the variables on the root element and the class on the body. CSP violations are
 * recorded as problems (console errors).
 */
function stubScript(
  bodyClass: string,
  kind: string,
  variables: Record<string, string>,
  state: unknown,
): string {
  return `(() => {
  window.__posted = [];
  window.__state = ${JSON.stringify(state ?? null)};
  let acquired = false;
  window.acquireVsCodeApi = () => {
    if (acquired) throw new Error('acquireVsCodeApi may only be called once');
    acquired = true;
    return {
      postMessage: (m) => window.__posted.push(JSON.parse(JSON.stringify(m))),
      getState: () => window.__state === null ? undefined : JSON.parse(JSON.stringify(window.__state)),
      setState: (s) => { window.__state = JSON.parse(JSON.stringify(s)); return s; },
    };
  };
  document.addEventListener('securitypolicyviolation', (e) =>
    console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));
  const vars = ${JSON.stringify(variables)};
  let rooted = false;
  // The script runs before the document has its elements: the variables go on the root element
  // and the class on the body as soon as each exists.
  const theme = () => {
    if (!rooted && document.documentElement) {
      rooted = true;
      for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
    }
    if (document.body) {
      document.body.classList.add(${JSON.stringify(bodyClass)});
      document.body.dataset.vscodeThemeKind = ${JSON.stringify(kind)};
      return true;
    }
    return false;
  };
  if (!theme()) {
    new MutationObserver((_, o) => { if (theme()) o.disconnect(); })
      .observe(document, { childList: true, subtree: true });
  }
})();`;
}

/** Switches the page to another theme, as VS Code does when the user changes it. */
export async function setTheme(page: Page, name: ThemeName): Promise<void> {
  const theme = THEMES[name];
  await page.evaluate(
    ({ bodyClass, variables }) => {
      const doc = (globalThis as unknown as { document: DocumentLike }).document;
      for (const [k, v] of Object.entries(variables)) doc.documentElement.style.setProperty(k, v);
      doc.body.className = bodyClass;
    },
    { bodyClass: theme.bodyClass, variables: theme.variables },
  );
}

/** The little of the DOM these evaluations use, since the tests compile without the DOM types. */
interface DocumentLike {
  documentElement: { style: { setProperty(k: string, v: string): void } };
  body: { className: string };
}
