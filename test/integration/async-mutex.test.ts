/**
 * lockscope/async-mutex as a user gets it, from the build: `import` and `require` give the same
 * objects, with async-mutex's export names; and an async-mutex program that deadlocks, switched
 * by changing only its import specifier, is reported as a deadlock at its lines by `lockscope
 * run`, while its fixed version is clean; under `lockscope explore` its acquisitions are choices
 * of the scheduler, which finds a deadlock that the natural schedule misses.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import type { Report } from '../../runtime-probe/src/analysis/types.js';
import { readTrace, runLockscope, runProgram } from './run-program.js';

const root = resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);
/** The async-mutex program of the newcomer tests, which lockscope alone does not observe. */
const original = readFileSync(
  join(root, 'test/fixtures/newcomer/esm-package/async-mutex-deadlock.ts'),
  'utf8',
);
const SPECIFIER = "from 'async-mutex';";

/** Writes `source` as an ES module program in test/.build and returns its folder. */
function program(name: string, source: string): string {
  const dir = join(root, 'test/.build/async-mutex');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(join(dir, name), source);
  return dir;
}

/** The program with only its import specifier changed. */
function switched(source: string): string {
  assert.equal(source.split(SPECIFIER).length, 2, 'the program imports async-mutex once');
  return source.replace(SPECIFIER, "from 'lockscope/async-mutex';");
}

async function run(dir: string, file: string): Promise<{ code: number; report: Report }> {
  const r = await runLockscope(['run', '--json', file], dir);
  assert.ok(r.stdout.startsWith('{'), r.stderr);
  return { code: r.code, report: JSON.parse(r.stdout) as Report };
}

/** The line of `text` in `source` (1-based), which must occur once. */
function lineOf(source: string, text: string): number {
  const lines = source.split('\n');
  const at = lines.findIndex((l) => l.includes(text));
  assert.ok(at >= 0 && lines.findIndex((l, i) => i > at && l.includes(text)) < 0, text);
  return at + 1;
}

describe('lockscope/async-mutex from the build', () => {
  test('import and require give the same objects, with async-mutex’s export names', async () => {
    const imported = (await import('lockscope/async-mutex')) as Record<string, unknown>;
    const required = require('lockscope/async-mutex') as Record<string, unknown>;
    const names = Object.keys(require('async-mutex') as object).sort();
    assert.deepEqual(Object.keys(required).sort(), names);
    // Nothing more for import either: no `default`, and no `module.exports` (which Node 23 and
    // later add to a CommonJS module's namespace).
    assert.deepEqual(Object.keys(imported).sort(), names);
    for (const name of names) assert.equal(imported[name], required[name], name);
  });

  test('alone, under LOCKSCOPE_TRACE, either build records: importing it starts the probe', async () => {
    const use = '(await new Mutex().acquire())();';
    const dir = program('traced.mjs', `import { Mutex } from 'lockscope/async-mutex';\n${use}\n`);
    program(
      'traced.cjs',
      `const { Mutex } = require('lockscope/async-mutex');\nvoid (async () => { ${use} })();\n`,
    );
    for (const file of ['traced.mjs', 'traced.cjs']) {
      const trace = join(dir, `${file}.jsonl`);
      rmSync(trace, { force: true });
      const r = await runProgram([join(dir, file)], { LOCKSCOPE_TRACE: trace }, { nodeArgs: [] });
      assert.equal(r.code, 0, r.stderr);
      const ops = readTrace(trace).flatMap((m) => (m.t === 'events' ? m.events : []));
      assert.deepEqual(
        ops.map((e) => e.op).filter((op) => op === 'acquired' || op === 'released'),
        ['acquired', 'released'],
        file,
      );
    }
  });

  test('an ABBA deadlock switched by its import specifier: reported at its lines', async () => {
    const source = switched(original);
    const dir = program('abba.ts', source);
    const { code, report } = await run(dir, 'abba.ts');
    assert.equal(code, 1);
    const deadlocks = report.findings.filter((f) => f.kind === 'deadlock');
    assert.equal(deadlocks.length, 1, JSON.stringify(report.findings.map((f) => f.title)));
    const [deadlock] = deadlocks;
    assert.equal(deadlock!.severity, 'error');
    assert.equal(deadlock!.certainty, 'exact');
    assert.deepEqual(deadlock!.tasks.map((t) => t.name).sort(), ['transfer #1', 'transfer #2']);
    assert.deepEqual(
      deadlock!.resources.map((r) => r.kind),
      ['mutex', 'mutex'],
    );
    const outer = lineOf(source, 'await first.runExclusive');
    const inner = lineOf(source, 'await second.runExclusive');
    const sites = deadlock!.sites.map((s) => `${s.file.endsWith('abba.ts')} ${s.line} ${s.act}`);
    assert.deepEqual(
      [...new Set(sites)].sort(),
      [`true ${inner} waits`, `true ${outer} acquired`].sort(),
      JSON.stringify(deadlock!.sites),
    );
  });

  test('its fixed version, the same order everywhere, is clean', async () => {
    const fixed = switched(original).replace('transfer(b, a)', 'transfer(a, b)');
    assert.notEqual(fixed, switched(original));
    const dir = program('abba-fixed.ts', fixed);
    const { code, report } = await run(dir, 'abba-fixed.ts');
    assert.deepEqual(
      report.findings.filter((f) => f.kind !== 'long-hold').map((f) => f.title),
      [],
    );
    assert.equal(code, 0);
  });

  test('lockscope explore orders its acquisitions, and finds what one run misses', async () => {
    // The first transfer is well ahead: run as it comes, it takes both locks before the second
    // starts, which only a lock-order inversion shows.
    const source = [
      "import { Mutex } from 'lockscope/async-mutex';",
      'const a = new Mutex();',
      'const b = new Mutex();',
      'async function transfer(first: Mutex, second: Mutex): Promise<void> {',
      '  await first.runExclusive(async () => {',
      '    await second.runExclusive(async () => {});',
      '  });',
      '}',
      'const ahead = transfer(a, b);',
      ...Array.from({ length: 8 }, () => 'await Promise.resolve();'),
      'await Promise.all([ahead, transfer(b, a)]);',
      '',
    ].join('\n');
    const dir = program('ahead.ts', source);
    const once = await run(dir, 'ahead.ts');
    assert.deepEqual(
      once.report.findings.map((f) => f.kind),
      ['lock-order-inversion'],
    );
    const explored = await runLockscope(
      ['explore', '--runs', '100', '--seed', '1', 'ahead.ts'],
      dir,
    );
    assert.equal(explored.code, 1, explored.stderr);
    assert.match(explored.stdout, /Deadlock: 2 tasks wait for each other/);
    assert.match(explored.stdout, /Schedule: \d+ decisions\n\s+1\. transfer #\d acquire mutex \d/);
    program('ahead-fixed.ts', source.replace('transfer(b, a)', 'transfer(a, b)'));
    const fixed = await runLockscope(
      ['explore', '--runs', '100', '--seed', '1', 'ahead-fixed.ts'],
      dir,
    );
    assert.match(fixed.stdout + fixed.stderr, /no failing schedule in 100 runs/);
    assert.equal(fixed.code, 0);
  });
});
