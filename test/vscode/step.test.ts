/**
 * Step-through in a real VS Code: Step Through with Lockscope on the dining philosophers shows
 * five flows in the Call Stack; stepping chosen flows (each selected in the Call Stack, then
 * Step Over) reaches the deadlock, which stops the session with the finding; Step Back replays
 * to the decision before. A screenshot of each stage.
 */
import assert from 'node:assert/strict';
import { extensionId, useVsCode } from './harness.js';

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
  // Every philosopher takes a left fork; then each one's sleep ends, and it reaches right.
  for (let n = 1; n <= 5; n++) await step(n);
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

  // Step Back is a button of the debug toolbar (the palette does not list it).
  await wb.page.locator('.debug-toolbar .codicon-debug-step-back').click();
  await rows
    .filter({ hasText: /is about to acquire fork/ })
    .first()
    .waitFor({ timeout: 30_000 });
  await wb.screenshot('step-back');
});
