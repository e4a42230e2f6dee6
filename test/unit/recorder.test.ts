/**
 * The recorder under hostile conditions: sinks that use primitives or unsubscribe while they are
 * called, settings out of range, and registries that must reach every sink.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Channel,
  Condition,
  configure,
  flushEvents,
  LockMisuseError,
  Mutex,
  ReentrantMutex,
  sleep,
  spawn,
  stats,
  subscribe,
  Worker,
} from '../../runtime-probe/src/index.js';
import { validateMessage, type Message } from '../../runtime-probe/src/protocol.js';

function eventsOf(messages: Message[]): number {
  return messages.reduce((n, m) => n + (m.t === 'events' ? m.events.length : 0), 0);
}

describe('sinks that act while they are called', () => {
  it('lets a listener use a primitive without losing or corrupting events', () => {
    const logLock = new Mutex({ name: 'listener lock' });
    const seen: Message[] = [];
    const unsubscribe = subscribe((m) => {
      seen.push(m);
      logLock.tryAcquire()?.release();
    });
    const m = new Mutex({ name: 'app lock' });
    for (let i = 0; i < 10; i++) m.tryAcquire()?.release();
    flushEvents();
    flushEvents();
    flushEvents();
    unsubscribe();
    const names = seen.flatMap((x) => (x.t === 'resource' ? [x.name] : []));
    assert.ok(names.includes('app lock') && names.includes('listener lock'));
    const registered = new Set(
      seen.flatMap((x) => (x.t === 'resource' || x.t === 'task' ? [x.id] : [])),
    );
    for (const x of seen) {
      if (x.t !== 'events') continue;
      for (const e of x.events) {
        assert.ok(registered.has(e.task), `task ${e.task} is registered`);
        if (e.res !== undefined)
          assert.ok(registered.has(e.res), `resource ${e.res} is registered`);
      }
    }
    assert.ok(eventsOf(seen) >= 20);
    assert.equal(stats().lost, 0);
  });

  it('still delivers to the other sinks when one unsubscribes itself', () => {
    const first: Message[] = [];
    const second: Message[] = [];
    const off = subscribe((m) => {
      first.push(m);
      if (m.t === 'events') off();
    });
    const offSecond = subscribe((m) => second.push(m));
    const m = new Mutex();
    for (let i = 0; i < 5; i++) m.tryAcquire()?.release();
    flushEvents();
    offSecond();
    assert.equal(eventsOf(second), 10);
  });
});

describe('registry messages', () => {
  it('encode an unbounded channel validly', () => {
    const seen: Message[] = [];
    const off = subscribe((m) => seen.push(m));
    const ch = new Channel<number>(Infinity, { name: 'unbounded' });
    ch.trySend(1);
    flushEvents();
    off();
    const res = seen.find((m) => m.t === 'resource' && m.name === 'unbounded');
    assert.ok(res && res.t === 'resource');
    assert.equal(res.policy, 'unbounded');
    const again = validateMessage(JSON.parse(JSON.stringify(res)));
    assert.ok(again.ok, again.ok ? '' : again.error);
  });

  it('registers the parent of a spawned task, and names flows without nesting', async () => {
    const seen: Message[] = [];
    const off = subscribe((m) => seen.push(m));
    const t = spawn('child', () => 1);
    await t.join();
    for (let i = 0; i < 20; i++) {
      await Promise.all([0, 1].map(async () => sleep(0)));
    }
    const m = new Mutex();
    await Promise.all([0, 1].map(async () => (await m.acquire()).release()));
    flushEvents();
    off();
    const tasks = new Map(seen.flatMap((x) => (x.t === 'task' ? [[x.id, x] as const] : [])));
    const start = seen
      .flatMap((x) => (x.t === 'events' ? x.events : []))
      .find((e) => e.op === 'task-start');
    assert.ok(start?.peer !== undefined && tasks.has(start.peer), 'the parent is registered');
    for (const task of tasks.values()) assert.ok(task.name.length < 40, task.name);
  });
});

describe('registries', () => {
  it("registers a worker's main flow, from its parent, under the worker's thread", async () => {
    const seen: Message[] = [];
    const off = subscribe((m) => seen.push(m));
    const w = new Worker('void 0', { eval: true });
    const thread = w.threadId;
    await w.join();
    flushEvents();
    off();
    const task = seen.find((x) => x.t === 'task' && x.id === w.taskId);
    assert.ok(task?.t === 'task', 'the parent registers it');
    assert.ok(thread > 0);
    assert.equal(task.thread, thread);
  });
});

describe('configure', () => {
  it('rejects out-of-range numbers with the field named', () => {
    assert.throws(() => configure({ batchSize: 0 }), /batchSize must be an integer from 16/);
    assert.throws(() => configure({ socketHighWater: -5 }), /socketHighWater/);
    assert.throws(() => configure({ stackDepth: 1.5 }), /stackDepth/);
    assert.throws(() => configure({ stacks: 'some' as never }), /stacks must be/);
  });

  it('applies a new batch size: a full batch is delivered at once', () => {
    const seen: Message[] = [];
    const off = subscribe((m) => seen.push(m));
    configure({ batchSize: 16 });
    try {
      const m = new Mutex();
      for (let i = 0; i < 20; i++) m.tryAcquire()?.release();
      assert.ok(eventsOf(seen) >= 16, 'the first 16 events were delivered without a flush');
    } finally {
      configure({ batchSize: 8192 });
      off();
    }
  });
});

describe('ownership checks that identity cannot fool', () => {
  it('keeps a ReentrantMutex exclusive between sibling flows started while the parent holds it', async () => {
    const rm = new ReentrantMutex();
    let inside = 0;
    let most = 0;
    const worker = async (): Promise<void> => {
      const g = await rm.acquire();
      inside++;
      most = Math.max(most, inside);
      await sleep(5);
      inside--;
      g.release();
    };
    const held = await rm.acquire();
    inside++;
    const all = Promise.all([worker(), worker()]);
    await sleep(20);
    inside--;
    held.release();
    await all;
    assert.equal(most, 1);
  });

  it('keeps the guard valid when it is released while a condition wait has given up the mutex', async () => {
    const m = new Mutex();
    const c = new Condition(m);
    const guard = await m.acquire();
    const waiting = c.wait({ timeout: 10 });
    assert.throws(() => guard.release(), LockMisuseError);
    await assert.rejects(waiting, /timed out/);
    assert.equal(m.isLocked, true, 'the wait took the mutex back');
    guard.release();
    assert.equal(m.isLocked, false, 'and the guard can still release it');
  });

  it('refuses a condition wait by a spawned task that does not hold the mutex', async () => {
    const m = new Mutex();
    const c = new Condition(m);
    const holder = await m.acquire();
    const intruder = spawn('intruder', () => c.wait({ timeout: 10 }));
    await assert.rejects(intruder.join(), LockMisuseError);
    assert.equal(m.isLocked, true, 'the holder still holds it');
    holder.release();
  });
});
