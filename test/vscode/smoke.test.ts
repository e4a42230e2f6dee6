/**
 * The packaged extension in a real VS Code: it installs from its .vsix, activates, and its
 * command runs from the palette. The last test drives the workbench through every page helper on
 * a TypeScript error of VS Code's own, as the pattern for scenarios of the extension's: open a
 * file, read the Problems panel and the lines, apply a quick fix, look inside a webview.
 */
import assert from 'node:assert/strict';
import { extensionId, useVsCode } from './harness.js';

const id = extensionId();
const vs = useVsCode({
  name: 'smoke',
  files: { 'scratch/misspelt.ts': 'const count: number = 1;\nconsol.log(count);\nexport {};\n' },
});

vs.test('the workbench loads with the packaged extension installed and active', async (wb) => {
  // The extension's status bar item appears when it activates (onStartupFinished).
  const item = await wb.waitForStatusBarItem(id, /Lockscope/, 30_000);
  assert.match(item.text, /Lockscope/);
  await wb.screenshot('workbench');
});

vs.test('"Lockscope: Show Probe Information" runs from the palette', async (wb) => {
  await wb.runCommand('Lockscope: Show Probe Information');
  const message = await wb.waitForNotification(/probe protocol/);
  assert.match(message, /^Lockscope speaks probe protocol 1\b/);
  await wb.screenshot('probe-information');
  await wb.clearNotifications();
});

vs.test('page helpers: a file, its problems and lines, a quick fix, a webview', async (wb) => {
  await wb.openFile('scratch/misspelt.ts');
  assert.equal(await wb.activeEditorTitle(), 'misspelt.ts');

  const problem = await wb.waitForProblem((p) => p.file === 'misspelt.ts' && p.source === 'ts');
  assert.equal(problem.severity, 'error');
  assert.match(problem.message, /Cannot find name 'consol'/);
  assert.deepEqual([problem.line, problem.column], [2, 1]);
  assert.deepEqual(await wb.problemCounts(), { errors: 1, warnings: 0 });
  assert.equal(await wb.lineText(problem.line), 'consol.log(count);');

  await wb.applyCodeAction(problem.line, problem.column, "Change spelling to 'console'");
  assert.equal(
    await wb.editorText(),
    'const count: number = 1;\nconsole.log(count);\nexport {};\n',
  );
  await wb.screenshot('quick-fix-applied');

  await wb.runCommand('Lockscope: Show Graph');
  // With nothing reported yet, the panel shows its empty session: the playback bar and findings.
  const { text } = await wb.waitForWebviewText(/Findings/, { extensionId: id });
  assert.match(text, /LIVE/);
  await wb.screenshot('graph-webview');

  const ours = vs.vscode.pageErrors.filter((e) => e.includes(id));
  assert.deepEqual(ours, []);
});
