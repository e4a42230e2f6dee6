// Child processes in one session: a program under `lockscope run` starts child.ts in every way a
// program starts a Node process (test/fixtures/children/parent.ts), each child with a lock-order
// inversion of its own; the report shows every process, which started which, and each child's
// finding in that child at the child's lines. The run is repeated, since how the children end
// and deliver their last events is what can go wrong.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import type { Report } from '../../runtime-probe/src/analysis/types.js';
import { loops } from '../loops.js';
import { runLockscope } from './run-program.js';

const root = resolve(import.meta.dirname, '../..');
const childFile = resolve(root, 'test/fixtures/children/child.ts');

/** The line of child.ts that carries `marker` in its comment. */
function lineOf(marker: string): number {
  const lines = readFileSync(childFile, 'utf8').split('\n');
  const at = lines.findIndex((l) => l.includes(`// ${marker}`));
  assert.ok(at >= 0, marker);
  return at + 1;
}

/** Every child's name, as its first argument gives it, and the child that started it. */
const CHILDREN: Record<string, string> = {
  fork: 'parent',
  'fork-no-execargv': 'parent',
  spawn: 'parent',
  'exec-file': 'parent',
  'own-env': 'parent',
  nest: 'parent',
  'nest-grandchild': 'nest',
  cluster: 'parent',
  'spawn-sync': 'parent',
};

describe('child processes in one session', () => {
  const rounds = loops(2, 50);
  for (let round = 1; round <= rounds; round++) {
    test(`fork, spawn, execFile, cluster, replaced execArgv and environments (round ${round})`, async () => {
      const r = await runLockscope(['run', '--json', 'test/fixtures/children/parent.ts']);
      // An inversion is a warning: the run passes.
      assert.equal(r.code, 0, r.stderr);
      const said = r.stderr.split('\n').find((l) => l.startsWith('{"parent"'));
      assert.ok(said, r.stderr);
      const parent = JSON.parse(said) as { parent: number; sync: number; shell: string };
      assert.equal(parent.sync, 0);
      // A program that is not Node was started with the environment it was given.
      assert.equal(parent.shell, '');
      const report = JSON.parse(r.stdout) as Report;

      // Each child's finding: its own locks, its tasks in one process, at child.ts's lines.
      const pidOf = new Map<string, number>([['parent', parent.parent]]);
      const lines = [
        lineOf('backward: b first'),
        lineOf('backward: then a'),
        lineOf('forward: a first'),
        lineOf('forward: then b'),
      ].sort((x, y) => x - y);
      for (const name of Object.keys(CHILDREN)) {
        const found = report.findings.filter((f) =>
          f.resources.some((x) => x.name === `a-${name}`),
        );
        assert.equal(found.length, 1, `one finding for ${name}`);
        const f = found[0]!;
        assert.equal(f.kind, 'lock-order-inversion');
        const pids = new Set(f.tasks.map((t) => t.pid));
        assert.equal(pids.size, 1, `${name}'s tasks are in one process`);
        pidOf.set(name, [...pids][0]!);
        assert.ok(
          f.sites.every((s) => s.file === childFile),
          `${name} at child.ts`,
        );
        assert.deepEqual(
          f.sites.map((s) => s.line).sort((x, y) => x - y),
          lines,
        );
      }
      // Nothing of the child that opted out.
      assert.ok(!report.findings.some((f) => f.resources.some((x) => x.name === 'a-opted-out')));
      assert.equal(report.findings.length, Object.keys(CHILDREN).length);

      // Every process once, each child with its own pid, started by the right process.
      const pids = [...pidOf.values()];
      assert.equal(new Set(pids).size, pids.length, 'a process per child');
      assert.deepEqual(
        report.processes.map((p) => p.pid).sort((x, y) => x - y),
        pids.sort((x, y) => x - y),
      );
      for (const [name, by] of Object.entries(CHILDREN)) {
        const p = report.processes.find((q) => q.pid === pidOf.get(name))!;
        assert.equal(p.ppid, pidOf.get(by), `${name} was started by ${by}`);
        assert.equal(p.script, childFile);
        assert.equal(p.exitCode, 0);
        assert.equal(p.dropped, 0);
      }
    });
  }

  test('the text report names each process and the one that started it', async () => {
    const r = await runLockscope(['run', 'test/fixtures/children/parent.ts']);
    assert.equal(r.code, 0, r.stderr);
    const parent = (
      JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{"parent"'))!) as {
        parent: number;
      }
    ).parent;
    assert.match(r.stdout, /Processes \(10\):/);
    assert.match(r.stdout, new RegExp(`^  parent\\.ts \\(${parent}\\), exited with 0$`, 'm'));
    const started = r.stdout.match(new RegExp(`started by parent\\.ts \\(${parent}\\)`, 'g'));
    assert.equal(started?.length, 8);
    assert.equal(r.stdout.match(/^ {2}in child\.ts \(\d+\)$/gm)?.length, 9);
  });
});

describe('a deadlocked child process', () => {
  for (let round = 1; round <= loops(1, 50); round++) {
    test(`stops the run, with its deadlock in the child at its lines (round ${round})`, async () => {
      const r = await runLockscope(['run', '--json', 'test/fixtures/children/stuck-parent.ts']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /stopped the program because it is deadlocked/);
      const said = r.stderr.split('\n').find((l) => l.startsWith('{"parent"'));
      assert.ok(said, r.stderr);
      const { parent, child } = JSON.parse(said) as { parent: number; child: number };
      const report = JSON.parse(r.stdout) as Report;
      assert.deepEqual(report.processes.map((p) => p.pid).sort(), [parent, child].sort());
      assert.equal(report.processes.find((p) => p.pid === child)?.ppid, parent);
      const [f, ...rest] = report.findings;
      assert.equal(rest.length, 0);
      assert.equal(f?.kind, 'deadlock');
      assert.equal(f.severity, 'error');
      assert.ok(f.tasks.every((t) => t.pid === child));
      const file = resolve(root, 'test/fixtures/children/deadlocked.ts');
      const source = readFileSync(file, 'utf8').split('\n');
      const at = (marker: string): number => source.findIndex((l) => l.includes(marker)) + 1;
      assert.ok(f.sites.every((s) => s.file === file));
      assert.deepEqual(
        f.sites.map((s) => s.line).sort((x, y) => x - y),
        [
          at('// east: left first'),
          at('// east: waits for right'),
          at('// west: right first'),
          at('// west: waits for left'),
        ].sort((x, y) => x - y),
      );
    });
  }
});
