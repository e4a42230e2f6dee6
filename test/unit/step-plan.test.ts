// Step-through's plan, without VS Code: the launch configuration, the adapter's command line from
// the program's own lockscope, one marker per line of the flows stopped there, which files get
// the CodeLens, and the configuration of a saved schedule.
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import {
  adapterPlan,
  flowMarks,
  scheduleConfiguration,
  stepConfiguration,
  usesLockscope,
} from '../../extension/src/step-plan.js';

const root = resolve(import.meta.dirname, '../..');

describe('step-through plan', () => {
  test("the adapter is the program project's own lockscope, or a reason why not", () => {
    const plan = adapterPlan(join(root, 'examples', 'dining-philosophers.ts'), 'node');
    assert.ok('command' in plan);
    assert.equal(plan.command, 'node');
    assert.match(plan.args[0]!, /dist[\\/]cli\.cjs$/);
    assert.equal(plan.args[1], 'debug-adapter');
    const none = adapterPlan('/nowhere/at/all/app.ts', 'node');
    assert.ok('problem' in none && /npm install lockscope/.test(none.problem));
    const empty = adapterPlan(undefined, 'node');
    assert.ok('problem' in empty && /needs a program/.test(empty.problem));
  });

  test('one marker per line, blocked only when every flow there is', () => {
    const at = (line: number): { file: string; line: number; column: number } => ({
      file: '/p/a.ts',
      line,
      column: 1,
    });
    const marks = flowMarks([
      { name: 'dine #1', state: 'blocked', why: 'waits for fork 1', at: at(34) },
      { name: 'dine #2', state: 'blocked', why: 'waits for fork 2', at: at(34) },
      { name: 'dine #3', state: 'ready', why: 'is about to acquire fork 3', at: at(31) },
      { name: 'main', state: 'blocked', why: 'waits' },
    ]);
    assert.deepEqual(
      marks.map((m) => [m.line, m.blocked, m.text]),
      [
        [34, true, '◀ dine #1 waits for fork 1   ◀ dine #2 waits for fork 2'],
        [31, false, '◀ dine #3 is about to acquire fork 3'],
      ],
    );
  });

  test('files that import lockscope get the CodeLens; others do not', () => {
    assert.ok(usesLockscope("import { Mutex } from 'lockscope';"));
    assert.ok(usesLockscope('const { Mutex } = require("lockscope");'));
    assert.ok(!usesLockscope("import { Mutex } from 'lockscope-other';"));
    assert.ok(!usesLockscope('// lockscope is great'));
  });

  test('a saved schedule opens its program, relative to where explore ran', () => {
    const file = join('/work', 'app', '.lockscope', 'schedules', 'x.json');
    const config = scheduleConfiguration(file, JSON.stringify({ program: 'src/app.ts' }));
    assert.deepEqual(config, {
      ...stepConfiguration(join('/work', 'app', 'src', 'app.ts'), file),
    });
    assert.equal(config.name, 'Lockscope: Replay Schedule');
    assert.throws(() => scheduleConfiguration(file, '{'), /is not JSON/);
    assert.throws(() => scheduleConfiguration(file, '{}'), /not a schedule saved by/);
  });
});
