/**
 * Task identity without annotations: concurrently running async functions each get an identity
 * of their own, and the parent's identity neither leaks into them nor comes back from them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  Mutex,
  sleep,
  spawn,
  subscribe,
  flushEvents,
  currentTaskId,
} from '../../runtime-probe/src/index.js';
import type { Message, WireEvent } from '../../runtime-probe/src/protocol.js';

const messages: Message[] = [];
subscribe((m) => messages.push(m));

function events(): WireEvent[] {
  flushEvents();
  return messages.flatMap((m) => (m.t === 'events' ? m.events : []));
}

function resourceIds(prefix: string): Map<number, string> {
  flushEvents();
  const out = new Map<number, string>();
  for (const m of messages)
    if (m.t === 'resource' && m.name.startsWith(prefix)) out.set(m.id, m.name);
  return out;
}

function taskNames(): Map<number, string> {
  const out = new Map<number, string>();
  for (const m of messages) if (m.t === 'task') out.set(m.id, m.name);
  return out;
}

describe('un-annotated Promise.all', () => {
  it('gives each of five dining philosophers one stable, distinct identity', async () => {
    // Before its first await, the test function acts as its caller until the end of the run
    // decides whether it is a flow of its own (it is: the test runner does not await it).
    await sleep(0);
    const mainId = currentTaskId();
    const forks = Array.from({ length: 5 }, (_, i) => new Mutex({ name: `p-fork ${i}` }));
    class Philosopher {
      constructor(readonly seat: number) {}
      async dine(): Promise<void> {
        for (let meal = 0; meal < 3; meal++) {
          // Dijkstra's order, so that this run finishes.
          const [a, b] = [this.seat, (this.seat + 1) % 5].sort((x, y) => x - y);
          using first = await forks[a!]!.acquire();
          await sleep(1);
          using second = await forks[b!]!.acquire();
          void first;
          void second;
        }
      }
    }
    await Promise.all([0, 1, 2, 3, 4].map((seat) => new Philosopher(seat).dine()));
    const afterAll = currentTaskId();

    const forkIds = resourceIds('p-fork ');
    const acquired = events().filter((e) => e.op === 'acquired' && forkIds.has(e.res ?? -1));
    assert.equal(acquired.length, 30, 'five philosophers, three meals, two forks each');
    const tasks = new Set(acquired.map((e) => e.task));
    assert.equal(tasks.size, 5, `five distinct identities, got ${[...tasks].join(', ')}`);
    assert.ok(!tasks.has(mainId), 'the parent identity does not leak into a philosopher');
    assert.equal(afterAll, mainId, 'no philosopher identity leaks back into the parent');

    // Each identity only ever touches its own two forks: identities are stable.
    for (const task of tasks) {
      const touched = new Set(acquired.filter((e) => e.task === task).map((e) => e.res));
      assert.equal(touched.size, 2, `task ${task} touched ${[...touched].join(', ')}`);
    }
    const names = taskNames();
    for (const task of tasks) assert.match(names.get(task) ?? '', /dine #\d+$/);
  });

  it('tells deadlocked philosophers apart in their requests', async () => {
    const forks = Array.from({ length: 5 }, (_, i) => new Mutex({ name: `d-fork ${i}` }));
    const abort = new AbortController();
    const dine = async (seat: number): Promise<void> => {
      using left = await forks[seat]!.acquire();
      await sleep(1);
      using right = await forks[(seat + 1) % 5]!.acquire({ signal: abort.signal });
      void left;
      void right;
    };
    const all = Promise.allSettled([0, 1, 2, 3, 4].map(dine));
    await sleep(20);
    const forkIds = resourceIds('d-fork ');
    // Each right fork is asked for with an AbortSignal: a request that may give up.
    const requests = events().filter((e) => e.op === 'request-bounded' && forkIds.has(e.res ?? -1));
    assert.equal(requests.length, 5, 'every philosopher waits');
    assert.equal(new Set(requests.map((e) => e.task)).size, 5);
    abort.abort();
    const outcomes = await all;
    assert.ok(outcomes.every((o) => o.status === 'rejected'));
  });
});

describe('spawn', () => {
  it('gives spawned tasks their own ids and names, with the parent recorded', async () => {
    await sleep(0);
    const m = new Mutex({ name: 's-lock' });
    const worker = async (): Promise<number> => {
      using g = await m.acquire();
      void g;
      return currentTaskId();
    };
    const a = spawn('worker a', worker);
    const b = spawn('worker b', worker);
    const [ia, ib] = await Promise.all([a.join(), b.join()]);
    assert.equal(ia, a.id);
    assert.equal(ib, b.id);
    assert.notEqual(ia, ib);
    flushEvents();
    const names = taskNames();
    assert.equal(names.get(a.id), 'worker a');
    const start = events().find((e) => e.op === 'task-start' && e.task === a.id);
    assert.equal(start?.peer, currentTaskId());
  });

  it('keeps identity inside a spawned task across awaits and its own siblings', async () => {
    const seen: number[] = [];
    const t = spawn('parent', async () => {
      const self = currentTaskId();
      await Promise.all(
        [1, 2].map(async () => {
          await sleep(1);
          seen.push(currentTaskId());
        }),
      );
      seen.push(currentTaskId());
      return self;
    });
    const self = await t.join();
    assert.equal(seen.length, 3);
    assert.notEqual(seen[0], seen[1], 'the two children are siblings');
    assert.ok(!seen.slice(0, 2).includes(self), 'children do not act as the parent');
    assert.equal(seen[2], self, 'the parent is itself again after Promise.all');
  });
});

describe('the run tracker', () => {
  it('keeps no promise of a finished run alive, nor what it resolved to', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    let freed = false;
    const registry = new FinalizationRegistry(() => (freed = true));
    await new Promise<void>((done) =>
      setTimeout(() => {
        void (async () => {
          // Enough promises to fill the tracker's reused slots, then one that holds a value.
          for (let i = 0; i < 40; i++) void Promise.resolve(i);
          // eslint-disable-next-line @typescript-eslint/require-await -- an async function that returns at once is the shape.
          const held = await (async () => {
            const value = { payload: new Array<number>(1000).fill(1) };
            registry.register(value, 0);
            return value;
          })();
          void held.payload.length;
          done();
        })();
      }, 1),
    );
    for (let i = 0; i < 20 && !freed; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(freed, 'the value resolved in a finished run was collected');
  });
});
