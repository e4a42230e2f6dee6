/**
 * A property of the analysis engine: its live state (who holds and who waits on each resource)
 * equals the primitives' own state, at every checkpoint of any program.
 *
 * fast-check generates programs: two to four spawned tasks, each a list of steps over two
 * mutexes, a semaphore, a read-write lock, two channels (with select, close, join and taskDone), an event, a
 * condition with its mutex, a barrier and a wait group, with timeouts and aborts. They run in this process with a subscriber feeding a fresh Analyzer. After every
 * step a task flushes the probe and compares, synchronously, so both sides describe the same
 * moment. A failure prints fast-check's seed and the shrunk program. 500 programs under
 * `npm test`, 50,000 under `npm run test:long`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Analyzer } from '../../runtime-probe/src/analysis/engine.js';
import {
  Barrier,
  Channel,
  Condition,
  Event,
  flushEvents,
  Mutex,
  RWLock,
  select,
  Semaphore,
  spawn,
  subscribe,
  WaitGroup,
  type MutexGuard,
} from '../../runtime-probe/src/index.js';
import type { LiveResource } from '../../runtime-probe/src/analysis/types.js';
import { resolved } from '../../runtime-probe/src/identity.js';
import { loops } from '../loops.js';

type Step =
  | { k: 'mutex'; m: 0 | 1; hold: number; timeout: number }
  | { k: 'mutex-abort'; m: 0 | 1 }
  | { k: 'sem'; hold: number; timeout: number }
  | { k: 'read' | 'write'; hold: number; timeout: number }
  | { k: 'send' | 'recv'; ch: 0 | 1; timeout: number }
  | { k: 'select'; timeout: number }
  | { k: 'close'; ch: 0 | 1 }
  | { k: 'join'; ch: 0 | 1; timeout: number }
  | { k: 'task-done'; ch: 0 | 1 }
  | { k: 'wait-event'; timeout: number }
  | { k: 'set-event' }
  | { k: 'cond-wait'; timeout: number }
  | { k: 'cond-notify'; all: boolean }
  | { k: 'barrier'; timeout: number }
  | { k: 'wg-add' }
  | { k: 'wg-done' }
  | { k: 'wg-wait'; timeout: number }
  | { k: 'tick' };

const timeout = fc.integer({ min: 0, max: 3 });
const hold = fc.integer({ min: 0, max: 2 });
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    k: fc.constant('mutex' as const),
    m: fc.constantFrom(0 as const, 1 as const),
    hold,
    timeout,
  }),
  fc.record({ k: fc.constant('mutex-abort' as const), m: fc.constantFrom(0 as const, 1 as const) }),
  fc.record({ k: fc.constant('sem' as const), hold, timeout }),
  fc.record({ k: fc.constantFrom('read' as const, 'write' as const), hold, timeout }),
  fc.record({
    k: fc.constantFrom('send' as const, 'recv' as const),
    ch: fc.constantFrom(0 as const, 1 as const),
    timeout,
  }),
  fc.record({ k: fc.constant('select' as const), timeout }),
  fc.record({ k: fc.constant('close' as const), ch: fc.constantFrom(0 as const, 1 as const) }),
  fc.record({
    k: fc.constant('join' as const),
    ch: fc.constantFrom(0 as const, 1 as const),
    timeout,
  }),
  fc.record({ k: fc.constant('task-done' as const), ch: fc.constantFrom(0 as const, 1 as const) }),
  fc.record({ k: fc.constant('wait-event' as const), timeout }),
  fc.record({ k: fc.constant('set-event' as const) }),
  fc.record({ k: fc.constant('cond-wait' as const), timeout }),
  fc.record({ k: fc.constant('cond-notify' as const), all: fc.boolean() }),
  fc.record({ k: fc.constant('barrier' as const), timeout }),
  fc.record({ k: fc.constant('wg-add' as const) }),
  fc.record({ k: fc.constant('wg-done' as const) }),
  fc.record({ k: fc.constant('wg-wait' as const), timeout }),
  fc.record({ k: fc.constant('tick' as const) }),
);
const program = fc.array(fc.array(step, { minLength: 1, maxLength: 6 }), {
  minLength: 2,
  maxLength: 4,
});

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Rejections are expected (timeouts, aborts, a closed channel): the state is what is checked. */
async function settle(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch {
    // A timed-out or aborted call: its wait ended, which is what the engine must see.
  }
}

async function runProgram(tasks: Step[][]): Promise<void> {
  const analyzer = new Analyzer();
  const stream = {};
  const unsubscribe = subscribe((m) => analyzer.accept(stream, m));
  const mutexes = [new Mutex({ name: 'm0' }), new Mutex({ name: 'm1' })];
  const sem = new Semaphore(2, { name: 'sem' });
  const rw = new RWLock({ name: 'rw' });
  const channels = [new Channel<number>(0, { name: 'c0' }), new Channel<number>(1, { name: 'c1' })];
  const event = new Event({ name: 'ev' });
  const condLock = new Mutex({ name: 'cm' });
  const cond = new Condition(condLock, { name: 'cond' });
  const barrier = new Barrier(2, { name: 'bar' });
  const group = new WaitGroup({ name: 'wg' });
  const problems: string[] = [];
  let pendingAdds = 0;
  /** Values received from each channel and not yet marked done. */
  const received = [0, 0];

  const mutexesChecked = [...mutexes, condLock];
  const check = (where: string): void => {
    flushEvents();
    const proc = analyzer.state(100_000).processes.at(-1);
    const live = new Map<string, LiveResource>((proc?.resources ?? []).map((r) => [r.name, r]));
    const engine = (name: string): { holders: string[]; waiters: string[] } =>
      live.get(name) ?? { holders: [], waiters: [] };
    const expect = (name: string, what: string, actual: unknown, wanted: unknown): void => {
      if (JSON.stringify(actual) !== JSON.stringify(wanted)) {
        problems.push(
          `${where}: ${name} ${what}: engine ${JSON.stringify(actual)}, real ${JSON.stringify(wanted)}`,
        );
      }
    };
    for (const m of mutexesChecked) {
      const e = engine(m.name);
      const holder = m.holderFlow();
      expect(m.name, 'holders', e.holders, holder ? [resolved(holder).name] : []);
      expect(m.name, 'waiters', e.waiters.length, m.waiting);
    }
    const s = engine(sem.name);
    expect(sem.name, 'holders', s.holders.length, 2 - sem.value);
    expect(sem.name, 'waiters', s.waiters.length, sem.waiting);
    const r = engine(rw.name);
    expect(rw.name, 'holders', r.holders.length, rw.readers + (rw.isWriteLocked ? 1 : 0));
    expect(rw.name, 'waiters', r.waiters.length, rw.waiting);
    for (const c of channels) {
      expect(
        c.name,
        'waiters',
        engine(c.name).waiters.length,
        c.blockedSenders + c.blockedReceivers + c.blockedJoiners,
      );
    }
    expect(event.name, 'waiters', engine(event.name).waiters.length, event.waiting);
    expect(cond.name, 'waiters', engine(cond.name).waiters.length, cond.waiting);
    expect(barrier.name, 'waiters', engine(barrier.name).waiters.length, barrier.waiting);
    expect(group.name, 'waiters', engine(group.name).waiters.length, group.waiting);
  };

  const holdFor = async (ticks: number, where: string): Promise<void> => {
    check(`${where} (holding)`);
    for (let i = 0; i < ticks; i++) await tick();
  };

  const run = async (steps: Step[], name: string): Promise<void> => {
    for (const [i, s] of steps.entries()) {
      const where = `${name} step ${i + 1} (${s.k})`;
      switch (s.k) {
        case 'mutex': {
          let guard: MutexGuard | undefined;
          await settle(mutexes[s.m]!.acquire({ timeout: s.timeout }).then((g) => (guard = g)));
          if (guard) {
            await holdFor(s.hold, where);
            guard.release();
          }
          break;
        }
        case 'mutex-abort': {
          const controller = new AbortController();
          setImmediate(() => controller.abort(new Error('stop')));
          let guard: MutexGuard | undefined;
          await settle(
            mutexes[s.m]!.acquire({ signal: controller.signal }).then((g) => (guard = g)),
          );
          guard?.release();
          break;
        }
        case 'sem': {
          let guard: MutexGuard | undefined;
          await settle(sem.acquire({ timeout: s.timeout }).then((g) => (guard = g)));
          if (guard) {
            await holdFor(s.hold, where);
            guard.release();
          }
          break;
        }
        case 'read':
        case 'write': {
          let guard: MutexGuard | undefined;
          const p =
            s.k === 'read' ? rw.read({ timeout: s.timeout }) : rw.write({ timeout: s.timeout });
          await settle(p.then((g) => (guard = g)));
          if (guard) {
            await holdFor(s.hold, where);
            guard.release();
          }
          break;
        }
        case 'send':
          await settle(channels[s.ch]!.send(i, { timeout: s.timeout }));
          break;
        case 'recv':
          await settle(
            channels[s.ch]!.recv({ timeout: s.timeout }).then((r) => {
              if (r.ok) received[s.ch]!++;
            }),
          );
          break;
        case 'select':
          await settle(
            select([{ recv: channels[0]! }, { recv: channels[1]! }], {
              timeout: s.timeout,
            }).then((r) => {
              if (r.ok) received[r.index]!++;
            }),
          );
          break;
        case 'join':
          await settle(channels[s.ch]!.join({ timeout: s.timeout }));
          break;
        case 'task-done':
          if (received[s.ch]! > 0) {
            received[s.ch]!--;
            channels[s.ch]!.taskDone();
          }
          break;
        case 'close':
          if (!channels[s.ch]!.closed) channels[s.ch]!.close();
          break;
        case 'wait-event':
          await settle(event.wait({ timeout: s.timeout }));
          break;
        case 'set-event':
          event.set();
          event.clear();
          break;
        case 'cond-wait': {
          let guard: MutexGuard | undefined;
          await settle(condLock.acquire({ timeout: s.timeout }).then((g) => (guard = g)));
          if (guard) {
            await settle(cond.wait({ timeout: s.timeout }));
            guard.release();
          }
          break;
        }
        case 'cond-notify': {
          let guard: MutexGuard | undefined;
          await settle(condLock.acquire({ timeout: 1 }).then((g) => (guard = g)));
          if (guard) {
            if (s.all) cond.notifyAll();
            else cond.notify();
            guard.release();
          }
          break;
        }
        case 'barrier':
          // A timeout breaks the barrier for everyone; reset it so later steps can use it.
          await settle(barrier.wait({ timeout: s.timeout }));
          if (barrier.broken && barrier.waiting === 0) barrier.reset();
          break;
        case 'wg-add':
          group.add(1);
          pendingAdds++;
          break;
        case 'wg-done':
          if (pendingAdds > 0) {
            pendingAdds--;
            group.done();
          }
          break;
        case 'wg-wait':
          await settle(group.wait({ timeout: s.timeout }));
          break;
        case 'tick':
          await tick();
          break;
      }
      check(where);
    }
  };

  try {
    await Promise.all(tasks.map((steps, i) => spawn(`t${i}`, () => run(steps, `t${i}`)).join()));
    // Whatever is still buffered in the channels stays; every wait has ended.
    check('end');
  } finally {
    unsubscribe();
  }
  assert.deepEqual(problems, [], 'the engine disagrees with the primitives');
}

describe('engine state equals the primitives’ state', () => {
  test(`at every checkpoint of ${loops(500, 50_000)} random programs`, async () => {
    await fc.assert(fc.asyncProperty(program, runProgram), {
      numRuns: loops(500, 50_000),
      // A failure prints its seed, path and the shrunk program, to run it again exactly.
      verbose: 1,
      includeErrorInReport: true,
    });
  });
});
