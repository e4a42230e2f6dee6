// Golden tests: every example runs under `lockscope run --json`, and what the analysis reports
// (kind, tasks, resources, source lines) must match test/golden/examples.json. Buggy examples
// must be reported; fixed ones must be clean. Set LOCKSCOPE_UPDATE_GOLDEN=1 to rewrite the file
// after a deliberate change, then read the diff.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { Report } from '../../runtime-probe/src/analysis/types.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const cli = resolve(root, 'runtime-probe/dist/cli.cjs');
const goldenFile = resolve(root, 'test/golden/examples.json');
const update = process.env.LOCKSCOPE_UPDATE_GOLDEN === '1';

interface Summary {
  exitCode: number;
  findings: {
    kind: string;
    pattern?: string;
    tasks: string[];
    resources: string[];
    lines: string[];
  }[];
}

const golden = JSON.parse(readFileSync(goldenFile, 'utf8')) as Record<string, Summary>;
const seen: Record<string, Summary> = {};

async function summarise(example: string, extra: string[] = []): Promise<Summary> {
  let stdout: string;
  let exitCode = 0;
  try {
    ({ stdout } = await run(
      process.execPath,
      [cli, 'run', '--json', ...extra, `examples/${example}`],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
      },
    ));
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    exitCode = e.code;
    stdout = e.stdout ?? '';
    if (exitCode === 2) assert.fail(`lockscope could not run ${example}: ${e.stderr ?? ''}`);
  }
  const report = JSON.parse(stdout) as Report;
  return {
    exitCode,
    findings: report.findings.map((f) => ({
      kind: f.kind,
      ...(f.pattern ? { pattern: f.pattern } : {}),
      tasks: f.tasks.map((t) => t.name).sort(),
      resources: f.resources.map((r) => `${r.name} (${r.kind})`).sort(),
      lines: [...new Set(f.sites.map((s) => `${relative(root, s.file)}:${s.line}`))].sort(),
    })),
  };
}

const examples = readdirSync(resolve(root, 'examples')).filter((f) => f.endsWith('.ts'));

describe('examples, analysed end to end', { concurrency: 2 }, () => {
  test('every example has a golden entry, and every entry an example', () => {
    if (update) return;
    assert.deepEqual(Object.keys(golden).sort(), [...examples].sort());
  });

  for (const example of examples) {
    test(example, async () => {
      const summary = await summarise(example);
      seen[example] = summary;
      if (!update) assert.deepEqual(summary, golden[example]);
    });
  }

  // Fail-fast judges identity at the moment of a wait: a fixed example must stay clean under it.
  for (const example of examples.filter((e) => golden[e]?.findings.length === 0)) {
    test(`${example}, under --fail-fast`, async () => {
      if (update) return;
      assert.deepEqual(await summarise(example, ['--fail-fast']), golden[example]);
    });
  }

  after(() => {
    if (!update) return;
    const sorted = Object.fromEntries(
      Object.keys(seen)
        .sort()
        .map((k) => [k, seen[k]!]),
    );
    writeFileSync(goldenFile, JSON.stringify(sorted, null, 2) + '\n');
    console.log(`rewrote ${goldenFile}`);
  });
});
