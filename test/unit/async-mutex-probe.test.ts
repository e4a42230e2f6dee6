// What the probe records of lockscope/async-mutex: every wait, its grant and its end, on a resource
// of the right kind; a timed-out wait ends with its timeout, and the hold of nobody that follows
// (the grant withTimeout gives back at once) is not anybody's. Under fake timers the recording
// still reaches the sinks, on the probe's own real timers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { install } from '@sinonjs/fake-timers';
import { subscribe, type Message } from '../../runtime-probe/src/index.js';
import {
  Mutex,
  Semaphore,
  withTimeout,
  E_TIMEOUT,
} from '../../runtime-probe/src/async-mutex/index.js';
import { settle, sleepReal } from './async-mutex-impls.js';

/**
 * Records what `body` does, and returns the operations on the last resource of `kind` it made.
 * `body` returns its locks, which are kept until the events are in: a lock collected sooner would
 * add its `collected` event, whenever the garbage collector runs.
 */
async function recorded(
  kind: string,
  body: () => Promise<object>,
  { flushNow = true } = {},
): Promise<{ ops: string[]; resource: Extract<Message, { t: 'resource' }> }> {
  const seen: Message[] = [];
  const off = subscribe((m) => seen.push(m));
  let locks: object | undefined;
  try {
    locks = await body();
    // Without flushEvents(): the probe flushes on its own timers, which fake ones do not stop.
    if (flushNow) await settle();
    // A collection now (with --expose-gc, as npm test runs) would show a lock not kept.
    (globalThis as { gc?: () => void }).gc?.();
    for (let i = 0; i < 50 && !seen.some((m) => m.t === 'events'); i++) await sleepReal(10);
    await sleepReal(20);
  } finally {
    off();
  }
  assert.ok(locks, 'the locks were kept until now');
  const resources = seen.filter(
    (m): m is Extract<Message, { t: 'resource' }> => m.t === 'resource' && m.kind === kind,
  );
  const resource = resources.at(-1);
  assert.ok(resource, `a ${kind} was registered`);
  const ops = seen
    .flatMap((m) => (m.t === 'events' ? m.events : []))
    .filter((e) => e.res === resource.id)
    .map((e) => (e.n ? `${e.op} ${e.n}` : e.op));
  return { ops, resource };
}

describe('lockscope/async-mutex, as the probe records it', () => {
  test('a Mutex is a mutex: each wait, grant and release', async () => {
    const { ops } = await recorded('mutex', async () => {
      const m = new Mutex();
      const first = await m.acquire();
      const second = m.acquire();
      first();
      first();
      (await second)();
      const held = await m.acquire();
      const unlocked = m.waitForUnlock();
      m.release();
      await unlocked;
      held();
      return m;
    });
    assert.deepEqual(ops, [
      'acquired',
      'request',
      'released',
      'acquired',
      'released',
      'acquired',
      'wait',
      'released',
      'wake',
    ]);
  });

  test('a Semaphore reports its weights as permits, and a cancel ends a wait', async () => {
    const { ops, resource } = await recorded('semaphore', async () => {
      const s = new Semaphore(3);
      const [, r] = await s.acquire(2);
      const pending = s.acquire(2).catch(() => undefined);
      s.cancel();
      await pending;
      r();
      s.release(4);
      return s;
    });
    assert.equal(resource.capacity, 3);
    assert.deepEqual(ops, ['acquired 2', 'request 2', 'cancel', 'released 2', 'released 4']);
  });

  test('withTimeout: a wait that may give up, its timeout, and no hold of nobody', async () => {
    const { ops } = await recorded('mutex', async () => {
      const m = new Mutex();
      const release = await m.acquire();
      await assert.rejects(withTimeout(m, 5).acquire(), (e) => e === E_TIMEOUT);
      release();
      await settle();
      assert.equal(m.isLocked(), false);
      return m;
    });
    assert.deepEqual(ops, ['acquired', 'request-bounded', 'timeout 5', 'released']);
  });

  test('under fake timers: timed out by the fake clock, recorded on the real one', async () => {
    const clock = install({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'Date'] });
    try {
      const { ops } = await recorded(
        'mutex',
        async () => {
          const m = new Mutex();
          const release = await m.acquire();
          const late = withTimeout(m, 1000).acquire();
          clock.tick(1000);
          await assert.rejects(late, (e) => e === E_TIMEOUT);
          release();
          return m;
        },
        { flushNow: false },
      );
      assert.deepEqual(ops, ['acquired', 'request-bounded', 'timeout 1000', 'released']);
      assert.equal(clock.countTimers(), 0);
    } finally {
      clock.uninstall();
    }
  });
});
