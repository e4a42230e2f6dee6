/**
 * Page helpers for VS Code's workbench, driven the way a person drives it: keyboard shortcuts, the
 * command palette, Quick Open, and reading what is on the screen. They wait for what they expect
 * (never a fixed sleep) and fail with what they saw instead, so that a failing step says why.
 * Selectors are VS Code 1.139's DOM; each one is used in one place here.
 */
import { join } from 'node:path';
import type { Frame, Locator, Page } from 'playwright-core';

/** One entry of the Problems panel. */
export interface Problem {
  severity: 'error' | 'warning' | 'info' | 'hint' | 'unknown';
  message: string;
  /** The diagnostic's source (`ts`, `Lockscope`...) and code, when it has them. */
  source: string;
  code: string;
  /** 1-based, as VS Code shows them. */
  line: number;
  column: number;
  /** The file's name, as the file row above the entry shows it, and its full path. */
  file: string;
  path: string;
  /** The diagnostic's related information: other places it points at. */
  related: { message: string; file: string; line: number; column: number }[];
}

/** One item of the status bar. */
export interface StatusBarItem {
  /** `status.problems` for VS Code's own; `publisher.name` (plus a suffix) for an extension's. */
  id: string;
  text: string;
  ariaLabel: string;
}

const DEFAULT_TIMEOUT = 15_000;
/**
 * The little of the DOM that the functions run in the page use. (The project's type check has no
 * DOM library: these functions are serialized and run in the browser, typed by this.)
 */
interface DomElement {
  readonly id: string;
  readonly className: string;
  readonly innerText: string;
  readonly style: { readonly top: string };
  getAttribute(name: string): string | null;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): Iterable<DomElement>;
  closest(selector: string): DomElement | null;
}

const SEVERITIES = ['error', 'warning', 'info', 'hint'] as const;
const WEBVIEW_HOST = /\/webview\/browser\/pre\/index\.html/;

export class Workbench {
  constructor(
    readonly page: Page,
    /** The folder screenshots go to. */
    readonly artifacts: string,
  ) {}

  /** Waits until the workbench is laid out: editor area, side bar, status bar. */
  async waitForReady(timeout = 60_000): Promise<void> {
    await this.page.locator('.monaco-workbench .part.editor').waitFor({ timeout });
    await this.page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout });
    await this.page.locator('.monaco-workbench .part.sidebar').waitFor({ timeout });
  }

  /** Saves a screenshot of the whole window as ARTIFACTS/NAME.png and returns its path. */
  async screenshot(name: string): Promise<string> {
    const path = join(this.artifacts, `${name}.png`);
    await this.page.screenshot({ path });
    return path;
  }

  // --- Quick input: the command palette and Quick Open -------------------------------------------

  get #quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  /** The rows of the open quick input, as their labels. */
  async quickInputLabels(): Promise<string[]> {
    return this.#quickInput.locator('.monaco-list-row .label-name').allInnerTexts();
  }

  /**
   * Runs a command from the palette (Control+Shift+P) by its full title as the palette shows it,
   * e.g. `Lockscope: Show Probe Information`. An extension's commands appear once its manifest is
   * read, which can be a few seconds after the workbench shows, so the palette is opened again
   * until the command is listed or `timeout` runs out.
   */
  async runCommand(title: string, timeout = DEFAULT_TIMEOUT): Promise<void> {
    const row = await this.#pick(() => this.page.keyboard.press('Control+Shift+P'), title, timeout);
    await row.click();
    await this.#quickInput.waitFor({ state: 'hidden', timeout });
  }

  /**
   * Opens a workspace file with Quick Open (Control+P), by its path relative to the workspace
   * (`examples/livelock.ts`), and waits until its editor is the active one.
   */
  async openFile(path: string, timeout = DEFAULT_TIMEOUT): Promise<void> {
    const parts = path.split('/');
    const name = parts.pop() ?? path;
    // Quick Open's rows are labelled "NAME FOLDER, ...": take the one in the right folder.
    const folder = parts.at(-1);
    const row = await this.#pick(
      () => this.page.keyboard.press('Control+P'),
      name,
      timeout,
      path,
      (ariaLabel) => folder === undefined || ariaLabel.includes(` ${folder}`),
    );
    await row.click();
    await this.page
      .locator(`.part.editor .tab.active[aria-label^="${name}"]`)
      .first()
      .waitFor({ timeout });
    await this.#editor.waitFor({ timeout });
  }

  async #pick(
    open: () => Promise<void>,
    label: string,
    timeout: number,
    query = label,
    accept: (ariaLabel: string) => boolean = () => true,
  ): Promise<Locator> {
    const deadline = Date.now() + timeout;
    let seen: string[] = [];
    for (;;) {
      await this.#closeQuickInput();
      await open();
      const input = this.#quickInput.locator('.quick-input-box input');
      await input.waitFor({ timeout });
      await this.page.keyboard.type(query);
      const rows = this.#quickInput.locator('.monaco-list-row');
      const exact = rows.filter({
        has: this.page.locator('.label-name', { hasText: new RegExp(`^${escape(label)}$`) }),
      });
      try {
        await exact
          .first()
          .waitFor({ timeout: Math.min(3_000, Math.max(deadline - Date.now(), 1)) });
        for (const row of await exact.all()) {
          if (accept((await row.getAttribute('aria-label')) ?? '')) return row;
        }
      } catch {
        // Not listed yet (or never): look again with a fresh list.
      }
      seen = await this.quickInputLabels();
      if (Date.now() >= deadline) {
        await this.#closeQuickInput();
        throw new Error(
          `"${label}" is not in the quick input after ${timeout} ms; it lists: ${JSON.stringify(seen)}`,
        );
      }
      await this.page.waitForTimeout(500);
    }
  }

  async #closeQuickInput(): Promise<void> {
    if (await this.#quickInput.isVisible()) {
      await this.page.keyboard.press('Escape');
      await this.#quickInput.waitFor({ state: 'hidden' });
    }
  }

  // --- Notifications -----------------------------------------------------------------------------

  /** The messages of the notification toasts on screen. */
  async notifications(): Promise<string[]> {
    return this.page
      .locator('.notifications-toasts .notification-toast .notification-list-item-message')
      .allInnerTexts();
  }

  /** Waits for a toast whose message matches, and returns its message. */
  async waitForNotification(pattern: RegExp | string, timeout = DEFAULT_TIMEOUT): Promise<string> {
    const toast = this.page
      .locator('.notifications-toasts .notification-toast .notification-list-item-message')
      .filter({ hasText: pattern });
    try {
      await toast.first().waitFor({ timeout });
    } catch {
      throw new Error(
        `no notification matching ${String(pattern)} within ${timeout} ms; on screen: ${JSON.stringify(await this.notifications())}`,
      );
    }
    return toast.first().innerText();
  }

  /** Dismisses every notification. */
  async clearNotifications(): Promise<void> {
    await this.runCommand('Notifications: Clear All Notifications');
  }

  // --- Status bar --------------------------------------------------------------------------------

  async statusBarItems(): Promise<StatusBarItem[]> {
    return this.page.locator('.part.statusbar .statusbar-item').evaluateAll((items: DomElement[]) =>
      items.map((item) => ({
        id: item.id,
        text: item.innerText.trim(),
        ariaLabel: item.getAttribute('aria-label') ?? '',
      })),
    );
  }

  /**
   * Waits for a status bar item whose id starts with `idPrefix` (an extension's items have ids
   * `publisher.name...`) and, if given, whose text matches; returns it.
   */
  async waitForStatusBarItem(
    idPrefix: string,
    text?: RegExp | string,
    timeout = DEFAULT_TIMEOUT,
  ): Promise<StatusBarItem> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const items = await this.statusBarItems();
      const found = items.find(
        (i) =>
          i.id.startsWith(idPrefix) &&
          (text === undefined ||
            (typeof text === 'string' ? i.text.includes(text) : text.test(i.text))),
      );
      if (found) return found;
      if (Date.now() >= deadline) {
        throw new Error(
          `no status bar item ${idPrefix}${text ? ` with ${String(text)}` : ''} within ${timeout} ms; items: ${JSON.stringify(items)}`,
        );
      }
      await this.page.waitForTimeout(250);
    }
  }

  /** The error and warning counts of the status bar's problems item. */
  async problemCounts(): Promise<{ errors: number; warnings: number }> {
    const text = await this.page.locator('.part.statusbar #status\\.problems').innerText();
    const [errors = 0, warnings = 0] = (text.match(/\d+/g) ?? []).map(Number);
    return { errors, warnings };
  }

  // --- Problems panel ----------------------------------------------------------------------------

  /** Shows the Problems panel (Control+Shift+M toggles it, so only when it is not shown). */
  async showProblems(): Promise<void> {
    const panel = this.page.locator('.markers-panel');
    if (!(await panel.isVisible())) await this.page.keyboard.press('Control+Shift+M');
    await panel.waitFor({ timeout: DEFAULT_TIMEOUT });
  }

  /**
   * The entries of the Problems panel, in the panel's order. The panel is a tree: a file row
   * (level 1), its markers (level 2), and their related locations (level 3, in `related`). Only
   * rows on screen are read: keep the count small or the panel tall.
   */
  async problems(): Promise<Problem[]> {
    await this.showProblems();
    // Read in the page, make sense of it here. (Functions passed to the page are serialized, so
    // they must not declare named helpers: tsx would wrap them in a helper the page lacks.)
    const fields = [
      '.label-name',
      '.label-suffix',
      '.marker-message',
      '.marker-source',
      '.marker-code',
      '.marker-line',
      '.marker-description',
      '.related-info-resource',
    ];
    const rows = await this.page.locator('.markers-panel .monaco-list-row').evaluateAll(
      (elements: DomElement[], selectors: string[]) =>
        elements.map((row) => ({
          index: Number(row.getAttribute('data-index')),
          level: row.getAttribute('aria-level'),
          icon: row.querySelector('.marker-icon')?.className ?? '',
          path: row.querySelector('.monaco-icon-label')?.getAttribute('aria-label') ?? '',
          texts: selectors.map((selector) => (row.querySelector(selector)?.innerText ?? '').trim()),
        })),
      fields,
    );
    const out: Problem[] = [];
    let file = '';
    let path = '';
    for (const row of rows.sort((a, b) => a.index - b.index)) {
      const [
        name = '',
        suffix = '',
        message = '',
        source = '',
        code = '',
        where = '',
        description = '',
        resource = '',
      ] = row.texts;
      const [line = 0, column = 0] = (where.match(/\d+/g) ?? []).map(Number);
      if (row.level === '1') {
        file = name + suffix;
        path = row.path || file;
      } else if (row.level === '2') {
        const classes = row.icon.split(/\s+/);
        const severity = SEVERITIES.find((s) => classes.includes(s)) ?? 'unknown';
        out.push({ severity, message, source, code, line, column, file, path, related: [] });
      } else if (row.level === '3') {
        out.at(-1)?.related.push({ message: description, file: resource, line, column });
      }
    }
    return out;
  }

  /** Waits until the Problems panel has an entry that `match` accepts; returns it. */
  async waitForProblem(
    match: (p: Problem) => boolean,
    timeout = DEFAULT_TIMEOUT,
  ): Promise<Problem> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const problems = await this.problems();
      const found = problems.find(match);
      if (found) return found;
      if (Date.now() >= deadline) {
        throw new Error(
          `no matching problem within ${timeout} ms; the panel shows ${JSON.stringify(problems)}`,
        );
      }
      await this.page.waitForTimeout(250);
    }
  }

  // --- Editor ------------------------------------------------------------------------------------

  get #editor(): Locator {
    return this.page.locator('.part.editor .editor-instance .monaco-editor').first();
  }

  /** The title of the active editor's tab. */
  async activeEditorTitle(): Promise<string> {
    return (
      (await this.page.locator('.part.editor .tab.active').first().getAttribute('aria-label')) ?? ''
    );
  }

  /** Gives the active editor the keyboard focus. */
  async focusEditor(): Promise<void> {
    await this.runCommand('View: Focus Active Editor Group');
  }

  /** Moves the cursor with Go to Line (Control+G), 1-based, and scrolls the line into view. */
  async goToLine(line: number, column?: number): Promise<void> {
    await this.focusEditor();
    await this.page.keyboard.press('Control+G');
    await this.#quickInput.locator('.quick-input-box input').waitFor();
    await this.page.keyboard.type(column === undefined ? `${line}` : `${line}:${column}`);
    await this.page.keyboard.press('Enter');
    await this.#quickInput.waitFor({ state: 'hidden' });
    await this.page
      .locator('.part.editor .monaco-editor .margin .line-numbers', {
        hasText: new RegExp(`^${line}$`),
      })
      .first()
      .waitFor();
  }

  /**
   * The lines of the active editor that are on screen, with their 1-based numbers, read from
   * the DOM (Monaco renders only the visible lines; goToLine() brings others into view).
   */
  async visibleLines(): Promise<{ line: number; text: string }[]> {
    return this.#editor.evaluate((editor: DomElement) => {
      const tops = new Map<string, number>();
      for (const n of editor.querySelectorAll('.margin .line-numbers')) {
        const line = Number(n.innerText.trim());
        const top = n.closest('[style*="top"]')?.style.top;
        if (line && top) tops.set(top, line);
      }
      const lines: { line: number; text: string }[] = [];
      for (const v of editor.querySelectorAll('.view-lines .view-line')) {
        const line = tops.get(v.style.top);
        if (line) lines.push({ line, text: v.innerText.replace(/\u00a0/g, ' ') });
      }
      return lines.sort((a, b) => a.line - b.line);
    });
  }

  /** The text of one line of the active editor (brought into view with goToLine()). */
  async lineText(line: number): Promise<string> {
    await this.goToLine(line);
    const found = (await this.visibleLines()).find((l) => l.line === line);
    if (!found) throw new Error(`line ${line} is not rendered in the active editor`);
    return found.text;
  }

  /**
   * The whole text of the active editor, saved or not: selects all and copies to the clipboard
   * (the browser context has clipboard permissions), then collapses the selection to the start.
   */
  async editorText(): Promise<string> {
    await this.focusEditor();
    await this.page.keyboard.press('Control+A');
    await this.page.keyboard.press('Control+C');
    const text: unknown = await this.page.evaluate('navigator.clipboard.readText()');
    await this.page.keyboard.press('Control+Home');
    if (typeof text !== 'string') throw new Error('the clipboard did not give text');
    return text;
  }

  // --- Code actions ------------------------------------------------------------------------------

  get #actionWidget(): Locator {
    return this.page.locator('.action-widget:not(.action-list-submenu-panel)');
  }

  /** Opens the code action menu (Control+.) at the cursor and returns its entries' titles. */
  async codeActions(): Promise<string[]> {
    const menu = this.#actionWidget;
    // The first request of a language's code actions can take seconds on a loaded machine, and
    // a key pressed while the editor is still busy can be lost: ask again until the menu shows.
    const deadline = Date.now() + 2 * DEFAULT_TIMEOUT;
    for (;;) {
      await this.page.keyboard.press('Control+.');
      try {
        await menu.waitFor({ timeout: 5_000 });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
    }
    return menu.locator('.monaco-list-row.action .title').allInnerTexts();
  }

  /** Applies the code action with this title at LINE:COLUMN (the quick fix menu, Control+.). */
  async applyCodeAction(line: number, column: number, title: string | RegExp): Promise<void> {
    await this.goToLine(line, column);
    const titles = await this.codeActions();
    const item = this.#actionWidget.locator('.monaco-list-row.action').filter({ hasText: title });
    if ((await item.count()) === 0) {
      await this.page.keyboard.press('Escape');
      throw new Error(
        `no code action ${String(title)} at ${line}:${column}; offered: ${JSON.stringify(titles)}`,
      );
    }
    await item.first().click();
    await this.#actionWidget.waitFor({ state: 'hidden' });
  }

  // --- Webviews ----------------------------------------------------------------------------------

  /**
   * The frames holding webview content, for every webview open. VS Code puts each webview in an
   * iframe (its host page, whose URL names the extension) holding another iframe with the
   * content; page.frames() lists both levels.
   */
  webviewFrames(extensionId?: string): Frame[] {
    return this.page.frames().filter((frame) => {
      const host = frame.parentFrame();
      return (
        host !== null &&
        WEBVIEW_HOST.test(host.url()) &&
        (extensionId === undefined || host.url().includes(`extensionId=${extensionId}`))
      );
    });
  }

  /** Waits for a webview whose document has an element matching `selector`; returns its frame. */
  async webviewFrame(
    selector = 'body',
    timeout = DEFAULT_TIMEOUT,
    extensionId?: string,
  ): Promise<Frame> {
    const deadline = Date.now() + timeout;
    for (;;) {
      for (const frame of this.webviewFrames(extensionId)) {
        const count = await frame
          .locator(selector)
          .count()
          .catch(() => 0); // a frame replaced while we looked
        if (count > 0) return frame;
      }
      if (Date.now() >= deadline) {
        const urls = this.page.frames().map((f) => f.url());
        throw new Error(
          `no webview with ${selector} within ${timeout} ms; frames: ${JSON.stringify(urls)}`,
        );
      }
      await this.page.waitForTimeout(250);
    }
  }

  /**
   * Waits until a webview's text (of its first element matching `selector`) matches `pattern`;
   * returns that frame and text. Use this rather than reading at once: a webview's document is
   * written after its frame appears.
   */
  async waitForWebviewText(
    pattern: RegExp | string,
    options: { selector?: string; timeout?: number; extensionId?: string } = {},
  ): Promise<{ frame: Frame; text: string }> {
    const { selector = 'body', timeout = DEFAULT_TIMEOUT, extensionId } = options;
    const deadline = Date.now() + timeout;
    let seen: string[] = [];
    for (;;) {
      seen = [];
      for (const frame of this.webviewFrames(extensionId)) {
        const text = await frame
          .locator(selector)
          .first()
          .innerText({ timeout: 1_000 })
          .catch(() => undefined); // not there, or a frame replaced while we looked
        if (text === undefined) continue;
        if (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text)) {
          return { frame, text };
        }
        seen.push(text.slice(0, 200));
      }
      if (Date.now() >= deadline) {
        throw new Error(
          `no webview text matching ${String(pattern)} in ${selector} within ${timeout} ms; webviews show: ${JSON.stringify(seen)}`,
        );
      }
      await this.page.waitForTimeout(250);
    }
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
