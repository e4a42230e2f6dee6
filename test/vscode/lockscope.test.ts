/**
 * The extension as a user meets it, in a real VS Code: open an example from the extension, run
 * it, see the deadlock in the Problems panel on the line that waits, open the graph panel, and
 * turn an acquire/release pair into a `using` declaration with the quick fix.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyEdits } from '../../extension/src/codeactions/edits.js';
import { convertToUsing } from '../../extension/src/codeactions/using.js';
import { extensionId, REPO, useVsCode } from './harness.js';

const id = extensionId();
const vs = useVsCode({ name: 'lockscope' });

vs.test('Open Example..., run it: the deadlock is a problem on the waiting line', async (wb) => {
  await wb.waitForStatusBarItem(id, /Lockscope/, 30_000);
  // The command opens a quick pick of its own, so the palette is driven by hand here: the
  // harness's runCommand waits for the quick input to close.
  const rows = wb.page.locator('.quick-input-widget .monaco-list-row');
  await wb.page.keyboard.press('Control+Shift+P');
  await wb.page.keyboard.type('Lockscope: Open Example');
  await rows.filter({ hasText: 'Lockscope: Open Example...' }).first().click();
  // The quick pick lists the examples shipped in the extension; pick one by its exact name.
  await wb.page
    .locator('.quick-input-widget input[placeholder="Open a Lockscope example"]')
    .waitFor();
  await wb.page.keyboard.type('dining-philosophers.ts');
  const row = rows.filter({
    has: wb.page.locator('.label-name', { hasText: /^dining-philosophers\.ts$/ }),
  });
  await row.first().click();
  await wb.page.locator('.part.editor .tab.active[aria-label^="dining-philosophers.ts"]').waitFor();
  await wb.clearNotifications();

  await wb.runCommand('Lockscope: Run File with Lockscope');
  const problem = await wb.waitForProblem(
    (p) => /lockscope/i.test(p.source) && p.code === 'deadlock',
    60_000,
  );
  assert.equal(problem.file, 'dining-philosophers.ts');
  assert.equal(problem.severity, 'error');
  assert.equal(problem.line, 34, 'the line where each philosopher waits for the right fork');
  assert.match(problem.message, /Deadlock: 5 tasks wait for each other in a cycle/);
  assert.ok(
    problem.related.some((r) => r.line === 31),
    `the other end of the cycle, where the left fork was taken: ${JSON.stringify(problem.related)}`,
  );
  await wb.screenshot('deadlock-problem');

  const status = await wb.waitForStatusBarItem(id, /\$\(error\)|1/, 10_000);
  assert.match(status.text, /Lockscope/);
});

vs.test('Show Graph draws the session: the cycle, in the webview', async (wb) => {
  await wb.runCommand('Lockscope: Show Graph');
  const { text } = await wb.waitForWebviewText(/Deadlock/, { extensionId: id });
  assert.match(text, /Deadlock: \S/);
  await wb.screenshot('graph-panel');
  const ours = vs.vscode.pageErrors.filter((e) => e.includes(id));
  assert.deepEqual(ours, []);
});

vs.test(
  'the static check flags a bare acquire; its quick fix declares it with using',
  async (wb) => {
    const file = 'examples/abandoned-lock.ts';
    await wb.openFile(file);
    const problem = await wb.waitForProblem(
      (p) => p.file === 'abandoned-lock.ts' && p.code === 'unreleased-lock',
    );
    assert.equal(problem.line, 28);
    const original = readFileSync(join(REPO, file), 'utf8');
    const offset =
      original
        .split('\n')
        .slice(0, problem.line - 1)
        .join('\n').length + problem.column;
    const edits = convertToUsing(original, file, offset);
    assert.ok(edits, 'the pure conversion applies here');
    await wb.applyCodeAction(problem.line, problem.column, /using/);
    const text = await wb.editorText();
    assert.equal(text, applyEdits(original, edits));
    assert.match(text, /^ {2}using guard = await ledger\.acquire\(\);$/m);
    assert.doesNotMatch(text, /guard\.release\(\)/);
    await wb.screenshot('using-applied');
  },
);
