// The stepper behind the debug adapter, in process: the flows as threads (ready, asleep, blocked
// with why and where), a step of a chosen flow, a refusal that says why, and a step back that
// gives the same state as stepping forward to that decision.
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Explorer, exploreSettings } from '../../runtime-probe/src/explore/explorer.js';
import { loadProgram } from '../../runtime-probe/src/explore/program.js';
import { StepRefused, Stepper, type StepView } from '../../runtime-probe/src/explore/stepper.js';
import { RandomStrategy } from '../../runtime-probe/src/explore/strategies.js';

const root = resolve(import.meta.dirname, '../..');
const summary = (v: StepView): string[] =>
  v.flows.map((f) => `${f.name} ${f.state} ${f.why} @${f.at?.line ?? '-'}`);

describe('the stepper', () => {
  let explorer: Explorer;
  before(async () => {
    explorer = new Explorer(
      await loadProgram(join(root, 'examples', 'dining-philosophers.ts')),
      exploreSettings(),
    );
    explorer.open();
  });
  after(() => explorer.close());

  test('shows each flow as a thread, and steps the one chosen', async () => {
    const stepper = new Stepper(explorer);
    const start = await stepper.restart();
    assert.deepEqual(
      summary(start),
      [1, 2, 3, 4, 5].map(
        (n) => `Philosopher.dine #${n} ready is about to acquire fork ${n - 1} @31`,
      ),
    );
    const third = start.flows[2]!;
    const after1 = await stepper.step(third.id);
    assert.equal(after1.step, 1);
    const moved = after1.flows.find((f) => f.id === third.id)!;
    assert.equal(moved.state, 'asleep');
    assert.match(moved.why, /sleeps 5 ms \(a timer ends once no flow is ready\)/);
    await assert.rejects(
      stepper.step(third.id),
      (e: unknown) =>
        e instanceof StepRefused && /cannot go on now: it sleeps 5 ms/.test(e.message),
    );
  });

  test('stepping back gives the state that stepping forward gave', async () => {
    const stepper = new Stepper(explorer);
    let view = await stepper.restart();
    const seen: string[][] = [summary(view)];
    const strategy = new RandomStrategy(11);
    strategy.begin(0);
    for (let i = 0; i < 12 && !view.result; i++) {
      view = await stepper.continue(strategy, 1);
      seen.push(summary(view));
    }
    for (let i = seen.length - 2; i >= 0; i--) {
      view = await stepper.back();
      assert.equal(view.step, i);
      assert.deepEqual(summary(view), seen[i], `step ${i}`);
    }
  });

  test('continuing to the end shows the deadlock and every blocked flow where it waits', async () => {
    const stepper = new Stepper(explorer);
    await stepper.restart();
    const order = (await stepper.goTo(0)).flows.map((f) => f.id);
    for (const id of order) await stepper.step(id);
    let view: StepView | undefined;
    for (const id of order) {
      await stepper.step(id);
      view = await stepper.step(id);
    }
    assert.equal(view!.result?.failure?.kind, 'finding');
    assert.ok(
      view!.flows.every(
        (f) =>
          f.state === 'blocked' && /waits for fork \d, held by /.test(f.why) && f.at?.line === 34,
      ),
      summary(view!).join('\n'),
    );
  });
});
