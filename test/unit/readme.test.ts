/**
 * The README is the newcomer's reference: every export of the `lockscope` package (values and
 * types, found by the TypeScript compiler from runtime-probe/src/index.ts) and every environment
 * variable the probe reads must appear in it, in backticks.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { moduleExports } from '../module-exports.js';

const root = resolve(import.meta.dirname, '../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const codeSpans = [...readme.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
/** True when the name appears as a word in some code span of the README. */
const documented = (name: string): boolean =>
  codeSpans.some((span) => new RegExp(`(^|[^\\w$])${name}($|[^\\w$])`).test(span));
const squeeze = (text: string): string => text.replace(/\s+/g, ' ');

function exportsOf(file: string): string[] {
  return moduleExports(file).exports.map((s) => s.getName());
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

describe('README', () => {
  test('documents every export of lockscope', () => {
    const names = exportsOf(join(root, 'runtime-probe/src/index.ts'));
    assert.ok(names.length > 30, `found only ${names.length} exports`);
    assert.deepEqual(
      names.filter((n) => !documented(n)).sort(),
      [],
      'exports missing from README.md',
    );
  });

  test('documents every environment variable the probe reads', () => {
    const variables = new Set<string>();
    for (const file of sourceFiles(join(root, 'runtime-probe/src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bLOCKSCOPE_[A-Z0-9_]+/g)) {
        variables.add(m[0]);
      }
    }
    assert.ok(variables.has('LOCKSCOPE_TRACE'));
    assert.deepEqual(
      [...variables].filter((v) => !documented(v)).sort(),
      [],
      'environment variables missing from README.md',
    );
  });

  test('shows the exit-status table that lockscope --help prints', async () => {
    const { EXIT_TABLE } = await import('../../runtime-probe/src/exit-status.js');
    // Each status with the first words of its meaning, whatever the README's line breaks.
    for (const entry of EXIT_TABLE.split(/\n(?= {2}\d )/).slice(1)) {
      const words = squeeze(entry.trim());
      assert.ok(squeeze(readme).includes(words), `README.md lacks: ${words}`);
    }
  });
});
