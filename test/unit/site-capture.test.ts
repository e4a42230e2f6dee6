/**
 * Which calls capture their site in the default `blocking` mode (sync.ts, `siteFor`): the first
 * uses of a resource, a call that waits, any call while a lock is held, and no other; and what a
 * finding shows for a holder whose acquisition was not captured.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  configure,
  flushEvents,
  Mutex,
  spawn,
  subscribe,
  type Message,
} from '../../runtime-probe/src/index.js';
import { FIRST_USES } from '../../runtime-probe/src/sync.js';
import { Analyzer } from '../../runtime-probe/src/analysis/engine.js';
import { flush } from './helpers.js';

const tick = (): Promise<unknown> => new Promise((resolve) => setImmediate(resolve));

/** Takes `outer`, lets others run, then takes and gives back `inner` under it. */
async function nested(outer: Mutex, inner: Mutex): Promise<void> {
  using held = await outer.acquire();
  await tick();
  (await inner.acquire()).release();
  void held;
}

/** Runs `body` recording, and returns every message the probe delivered. */
async function recorded(body: () => Promise<void>): Promise<Message[]> {
  const messages: Message[] = [];
  const unsubscribe = subscribe((m) => messages.push(m));
  try {
    await body();
    flushEvents();
  } finally {
    unsubscribe();
  }
  return messages;
}

/** The site of each `acquired` event on the resource named `name`, in order. */
function acquiredSites(messages: Message[], name: string): number[] {
  const res = messages.find((m) => m.t === 'resource' && m.name === name);
  assert.ok(res && res.t === 'resource', `resource ${name}`);
  return messages.flatMap((m) =>
    m.t === 'events'
      ? m.events.filter((e) => e.op === 'acquired' && e.res === res.id).map((e) => e.site ?? 0)
      : [],
  );
}

describe('site capture in the default mode', () => {
  it('captures the first uses in a row of a lock taken on its own, then none', async () => {
    configure({ stacks: 'blocking' });
    const messages = await recorded(async () => {
      const m = new Mutex({ name: 'alone' });
      for (let i = 0; i < FIRST_USES + 10; i++) (await m.acquire()).release();
    });
    const sites = acquiredSites(messages, 'alone');
    assert.equal(sites.length, FIRST_USES + 10);
    assert.ok(
      sites.slice(0, FIRST_USES).every((s) => s > 0),
      'the first uses have sites',
    );
    assert.deepEqual(sites.slice(FIRST_USES), Array(10).fill(0), 'later ones have none');
  });

  it('captures a nested acquisition, a contended one, and locks taken in turn', async () => {
    configure({ stacks: 'blocking' });
    const messages = await recorded(async () => {
      const outer = new Mutex({ name: 'outer' });
      const inner = new Mutex({ name: 'inner' });
      for (let i = 0; i < FIRST_USES; i++) (await inner.acquire()).release();
      (await inner.acquire()).release();
      {
        using o = await outer.acquire();
        using n = await inner.acquire();
        void [o, n];
      }
      for (let i = 0; i < FIRST_USES; i++) (await inner.acquire()).release();
      const held = await inner.acquire();
      const waiter = spawn('waiter', async () => (await inner.acquire()).release());
      await flush();
      held.release();
      await waiter.join();
    });
    const sites = acquiredSites(messages, 'inner');
    assert.equal(sites.length, 2 * FIRST_USES + 4);
    assert.equal(sites[FIRST_USES], 0, 'taken alone once more after its first uses');
    assert.ok(sites[FIRST_USES + 1]! > 0, 'taken while holding outer');
    assert.equal(sites.at(-2), 0, 'taken alone, uncontended, past its first uses again');
    assert.ok(sites.at(-1)! > 0, 'granted after a wait');
    const outer = acquiredSites(messages, 'outer');
    assert.ok(outer[0]! > 0, 'the outer lock of a nested pair');
  });

  it('keeps the holder lines of a deadlock and an inversion after many uses', async () => {
    configure({ stacks: 'blocking' });
    const a = new Mutex({ name: 'A' });
    const b = new Mutex({ name: 'B' });
    const messages = await recorded(async () => {
      for (let i = 0; i < 2 * FIRST_USES; i++) {
        (await a.acquire()).release();
        (await b.acquire()).release();
      }
      // One task takes A then B, the other B then A: an inversion, which the analysis finds
      // whether or not they overlap.
      await spawn('first', () => nested(a, b)).join();
      await spawn('second', () => nested(b, a)).join();
    });
    const analyzer = new Analyzer();
    for (const m of messages) analyzer.accept(messages, m);
    const inversion = analyzer.findings.find((f) => f.kind === 'lock-order-inversion');
    assert.ok(inversion, analyzer.findings.map((f) => f.kind).join());
    assert.equal(inversion.sites.length, 4);
    assert.ok(
      inversion.sites.every((s) => s.file.endsWith('site-capture.test.ts')),
      JSON.stringify(inversion.sites),
    );
  });

  it('names automatic tasks after their function, after many uses of their lock', async () => {
    configure({ stacks: 'blocking' });
    const m = new Mutex({ name: 'shared' });
    async function producer(): Promise<void> {
      for (let i = 0; i < 3; i++) {
        (await m.acquire()).release();
        await tick();
      }
    }
    const messages = await recorded(async () => {
      for (let i = 0; i < 2 * FIRST_USES; i++) (await m.acquire()).release();
      await Promise.all([producer(), producer()]);
    });
    const names = messages.flatMap((x) => (x.t === 'task' ? [x.name] : []));
    assert.deepEqual(
      names.filter((n) => n.startsWith('producer')),
      ['producer #1', 'producer #2'],
      names.join(', '),
    );
  });

  it('names a holder whose acquisition was not captured without a line', async () => {
    configure({ stacks: 'blocking' });
    let held: { release(): void } | undefined;
    const messages = await recorded(async () => {
      const m = new Mutex({ name: 'busy' });
      for (let i = 0; i < FIRST_USES; i++) (await m.acquire()).release();
      held = await m.acquire();
      spawn('starved', async () => (await m.acquire()).release());
      await flush();
    });
    const analyzer = new Analyzer();
    for (const m of messages) analyzer.accept(messages, m);
    // As the probe says when the event loop has nothing left to run.
    analyzer.accept(messages, { t: 'idle', ts: performance.timeOrigin + performance.now() });
    // At idle the lock is left held, with a task waiting for it.
    const finding = analyzer.findings.find((f) => f.kind === 'abandoned-lock');
    assert.ok(finding, analyzer.findings.map((f) => f.kind).join());

    assert.match(finding.message, /without releasing busy/, 'the holder and the lock are named');
    assert.ok(
      finding.sites.every((s) => s.act !== 'acquired'),
      `no line for the acquisition: ${JSON.stringify(finding.sites)}`,
    );
    assert.ok(
      finding.sites.some((s) => s.act === 'waits' && s.file.endsWith('site-capture.test.ts')),
      'the wait has its line',
    );
    held?.release();
  });
});
