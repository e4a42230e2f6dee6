/**
 * The package boundaries are enforced by lint (eslint.config.mjs): a file of the extension or
 * the webview that reaches into the probe's sources, a webview or probe file that imports
 * `vscode`, or the probe importing the extension, fails `npm run lint`.
 */
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { ESLint } from 'eslint';

const root = resolve(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: root });

/** The import rules `text` breaks, linted as if it were the file `path` of the repository. */
async function broken(path: string, text: string): Promise<string[]> {
  const [result] = await eslint.lintText(text, { filePath: join(root, path) });
  return result!.messages
    .filter((m) => m.ruleId === 'no-restricted-imports')
    .map((m) => m.message.split('.')[0]!);
}

describe('package boundaries', () => {
  test("the extension and the webview may not import the probe's sources", async () => {
    const reach = "import type { Report } from '../../runtime-probe/src/analysis/types.js';\n";
    assert.equal((await broken('extension/src/session.ts', reach)).length, 1);
    assert.equal((await broken('webview/src/app.ts', reach)).length, 1);
    const byName = "import type { Report } from 'lockscope/report';\nexport type R = Report;\n";
    assert.deepEqual(await broken('extension/src/session.ts', byName), []);
    assert.deepEqual(await broken('webview/src/app.ts', byName), []);
  });

  test('only the extension imports vscode; the probe imports neither the extension nor the webview', async () => {
    const vscode = "import * as vscode from 'vscode';\nexport const v = vscode;\n";
    assert.deepEqual(await broken('extension/src/extension.ts', vscode), []);
    assert.equal(
      (await broken('extension/src/session.ts', vscode)).length,
      1,
      'a pure module of the extension',
    );
    assert.equal((await broken('webview/src/app.ts', vscode)).length, 1);
    assert.equal((await broken('runtime-probe/src/cli.ts', vscode)).length, 1);
    const ext = "export { activate } from '../../extension/src/extension.js';\n";
    assert.equal((await broken('runtime-probe/src/cli.ts', ext)).length, 1);
  });
});
