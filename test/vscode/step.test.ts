/**
 * Step-through in a real VS Code: Step Through with Lockscope on the dining philosophers shows
 * five flows in the Call Stack; stepping chosen flows (each selected in the Call Stack, then
 * Step Over) reaches the deadlock, which stops the session with the finding, in the Problems
 * panel and the graph; Step Back replays to the decision before, and the views follow it. The
 * walkthrough is listed among VS Code's walkthroughs. A screenshot of each stage.
 */
import assert from 'node:assert/strict';
import { extensionId, useVsCode } from './harness.js';
import type { Problem } from './workbench.js';

const id = extensionId();
const vs = useVsCode({ name: 'step' });

vs.test('Step Through: five flows, stepped to the deadlock, and one step back', async (wb) => {
  await wb.waitForStatusBarItem(id, /Lockscope/, 30_000);
  await wb.openFile('examples/dining-philosophers.ts');
  await wb.runCommand('Lockscope: Step Through with Lockscope');
  await wb.page.keyboard.press('Control+Shift+D'); // the Run and Debug view, with the Call Stack
  const rows = wb.page.locator('.debug-call-stack .monaco-list-row .thread');
  const flow = (n: number) => rows.filter({ hasText: `Philosopher.dine #${n}:` }).first();
  await flow(5).waitFor({ timeout: 60_000 });
  const names = await rows.allInnerTexts();
  assert.equal(names.filter((t) => /Philosopher\.dine #\d:/.test(t)).length, 5, names.join('\n'));
  await wb.screenshot('step-five-flows');

  // Select the flow in the Call Stack, then Step Over (F10): that flow makes its next decision.
  let decisions = 0;
  const step = async (n: number): Promise<void> => {
    await flow(n).click();
    await wb.page.keyboard.press('F10');
    decisions++;
    await wb.page
      .locator('.debug-call-stack .monaco-list-row', { hasText: `Decision ${decisions + 1}` })
      .or(wb.page.locator('.exception-widget'))
      .first()
      .waitFor({ timeout: 30_000 });
  };
  // "Run This Flow Next", from the Call Stack's context menu, is the same step.
  await flow(1).click({ button: 'right' });
  // A menu ignores the mouse for a moment after it opens (so that the right button's release
  // does not choose): the item is focused by hovering and chosen with Enter.
  const item = wb.page.locator('.context-view .action-item', { hasText: 'Run This Flow Next' });
  await item.hover();
  await wb.page
    .locator('.context-view .action-item.focused', { hasText: 'Run This Flow Next' })
    .waitFor();
  await wb.page.keyboard.press('Enter');
  decisions++;
  await wb.page
    .locator('.debug-call-stack .monaco-list-row', { hasText: `Decision ${decisions + 1}` })
    .first()
    .waitFor({ timeout: 30_000 });
  // Every philosopher takes a left fork; then each one's sleep ends, and it reaches right.
  for (let n = 2; n <= 5; n++) await step(n);
  await wb.screenshot('step-left-forks');
  for (let n = 1; n <= 5; n++) {
    await step(n);
    await step(n);
  }
  // The session stops on the finding, as on an exception, with the finding's title.
  await wb.page
    .locator('.exception-widget', { hasText: /Deadlock: 5 tasks wait for each other in a cycle/ })
    .waitFor({ timeout: 30_000 });
  await rows
    .filter({ hasText: /waits for fork \d, held by Philosopher\.dine/ })
    .first()
    .waitFor();
  await wb.screenshot('step-deadlock');

  // The views follow the step: the Problems panel has the deadlock at the line each philosopher
  // waits at, and the graph draws the cycle.
  const isDeadlock = (p: Problem): boolean => /lockscope/i.test(p.source) && p.code === 'deadlock';
  const problem = await wb.waitForProblem(isDeadlock, 30_000);
  assert.equal(problem.file, 'dining-philosophers.ts');
  assert.equal(problem.line, 34);
  assert.match(problem.message, /Deadlock: 5 tasks wait for each other in a cycle/);
  await wb.runCommand('Lockscope: Show Graph');
  await wb.waitForWebviewText(/Deadlock: \S/, { extensionId: id });
  await wb.screenshot('step-deadlock-graph');

  // Step Back is a button of the debug toolbar (the palette does not list it).
  await wb.page.locator('.debug-toolbar .codicon-debug-step-back').click();
  await rows
    .filter({ hasText: /is about to acquire fork/ })
    .first()
    .waitFor({ timeout: 30_000 });
  // One decision before the deadlock there is none: not in the Problems panel, not in the graph.
  await until(async () => !(await wb.problems()).some(isDeadlock), 'the deadlock left the panel');
  await wb.waitForWebviewText('No findings so far.', { extensionId: id });
  await wb.screenshot('step-back');
});

vs.test('the walkthrough "Find your first deadlock" is on the Welcome page', async (wb) => {
  await wb.runCommand('Help: Welcome');
  const welcome = wb.page.locator('.gettingStartedContainer');
  const ours = welcome.locator('button', { hasText: 'Find your first deadlock' }).first();
  // The Welcome page lists a few walkthroughs, and the rest under "More...".
  const more = welcome.locator('.more', { hasText: 'More' }).first();
  await ours.or(more).first().waitFor({ timeout: 30_000 });
  await wb.screenshot('welcome');
  if (!(await ours.isVisible())) await more.click();
  await ours.click();
  // The walkthrough's page, with its steps.
  for (const step of ['Open an example', 'Step to the bug', 'Apply the fix', 'Explore the fixed']) {
    await welcome.locator('.getting-started-step', { hasText: step }).first().waitFor();
  }
  await wb.screenshot('walkthrough');
});

/** Polls `check` until it holds, or fails with `what` after 30 s. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within 30 s: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
