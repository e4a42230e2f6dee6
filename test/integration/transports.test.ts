/**
 * The probe's transports, end to end in real processes: a trace file, a socket collector that
 * works, one that stops reading, one that disconnects mid-run, and one that is absent. Whatever the
 * collector does, the program runs to its end and the probe accounts for every event.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startCollector } from '../../runtime-probe/src/collector.js';
import type { Message } from '../../runtime-probe/src/protocol.js';
import { bundleFixture, lastJson, readTrace, runProgram } from './run-program.js';

const DELIVERY_WORKER = bundleFixture('delivery-worker');

interface Stats {
  produced: number;
  sent: number;
  dropped: number;
  inFlight: number;
  buffered: number;
}

const dir = mkdtempSync(join(tmpdir(), 'lockscope-test-'));
const unixOnly = process.platform === 'win32' ? 'FIFOs and file modes are Unix' : false;
after(() => rmSync(dir, { recursive: true, force: true }));

/** A misbehaving collector: a bare socket server whose connection handler we choose. */
async function rawServer(
  onConnection: (s: Socket) => void,
): Promise<{ path: string; server: Server }> {
  const path = join(dir, `raw-${Math.random().toString(16).slice(2)}.sock`);
  const server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { path, server };
}

/** Calls `each` with every message a connection sends, one JSON line at a time. */
function onMessages(s: Socket, each: (m: Message) => void): void {
  let rest = '';
  s.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    for (const line of parts) each(JSON.parse(line) as Message);
  });
}

/** Runs `program` reporting to `path`; it must exit 0 and account for every event. */
async function runReporting(path: string, program: string[]): Promise<Stats> {
  const r = await runProgram(program, { LOCKSCOPE_ENDPOINT: path, LOCKSCOPE_TOKEN: 'x' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /done/);
  const s = lastJson<Stats>(r.stdout);
  assertAccounted(s);
  return s;
}

function assertAccounted(s: Stats): void {
  assert.equal(s.buffered, 0, 'nothing left in the recorder');
  assert.equal(s.inFlight, 0, 'nothing left in flight at exit');
  assert.equal(
    s.sent + s.dropped,
    s.produced,
    `sent ${s.sent} + dropped ${s.dropped} = produced ${s.produced}`,
  );
}

describe('trace file', () => {
  it('records the deadlocked dining philosophers with TypeScript source lines', async () => {
    const trace = join(dir, 'philosophers.jsonl');
    const r = await runProgram(['examples/dining-philosophers.ts'], { LOCKSCOPE_TRACE: trace });
    assert.ok(r.code === 0 || r.code === 13, `exit ${r.code}: ${r.stderr}`);
    const messages = readTrace(trace);
    assert.equal(messages[0]?.t, 'hello');
    const events = messages.flatMap((m) => (m.t === 'events' ? m.events : []));
    const requests = events.filter((e) => e.op === 'request');
    assert.equal(requests.length, 5);
    assert.equal(new Set(requests.map((e) => e.task)).size, 5, 'five distinct philosophers');
    const sites = new Map(messages.flatMap((m) => (m.t === 'site' ? [[m.id, m] as const] : [])));
    const site = sites.get(requests[0]!.site!);
    assert.ok(site, 'the request has a site');
    assert.match(site.file, /examples[/\\]dining-philosophers\.ts$/);
    assert.equal(site.line, 34, 'the line of `await this.right.acquire()`');
    assert.equal(site.fn, 'Philosopher.dine');
    assert.ok(
      messages.some((m) => m.t === 'idle'),
      'the idle message marks the silent deadlock',
    );
    assert.equal(messages.at(-1)?.t, 'end');
  });

  it('preloads with --import lockscope/register and --require lockscope/register', async () => {
    for (const flag of ['--import', '--require']) {
      const trace = join(dir, `register${flag}.jsonl`);
      const r = await runProgram(
        ['test/fixtures/plain.cjs'],
        { LOCKSCOPE_TRACE: trace },
        { nodeArgs: [flag, 'lockscope/register'] },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /plain program ran/);
      const messages = readTrace(trace);
      assert.deepEqual(
        messages.map((m) => m.t),
        ['hello', 'idle', 'end'],
      );
    }
  });

  it('reports a bad setting once and runs the program with the default', async () => {
    const trace = join(dir, 'bad-setting.jsonl');
    const r = await runProgram(['test/fixtures/workload.ts', '10'], {
      LOCKSCOPE_TRACE: trace,
      LOCKSCOPE_STACKS: 'sometimes',
    });
    assert.equal(r.code, 0);
    assert.match(r.stderr, /LOCKSCOPE_STACKS must be one of off, blocking, all, got "sometimes"/);
    assertAccounted(lastJson<Stats>(r.stdout));
  });

  it('reports a bad setting once, not once per worker thread', async () => {
    const trace = join(dir, 'bad-setting-workers.jsonl');
    const r = await runProgram(['test/fixtures/delivery.ts', DELIVERY_WORKER], {
      LOCKSCOPE_TRACE: trace,
      LOCKSCOPE_STACKS: 'sometimes',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.split('LOCKSCOPE_STACKS must be').length - 1, 1, r.stderr);
  });

  it('reports an unwritable trace file and still runs the program', async () => {
    const r = await runProgram(['test/fixtures/workload.ts', '10'], {
      LOCKSCOPE_TRACE: join(dir, 'no-such-dir', 'trace.jsonl'),
    });
    assert.equal(r.code, 0);
    assert.match(r.stderr, /cannot write the trace file/);
    const s = lastJson<Stats>(r.stdout);
    assert.equal(s.dropped, s.produced);
  });

  it('refuses a FIFO instead of hanging the program at its start', { skip: unixOnly }, async () => {
    const fifo = join(dir, 'trace.fifo');
    execFileSync('mkfifo', [fifo]);
    const r = await runProgram(['test/fixtures/workload.ts', '10'], { LOCKSCOPE_TRACE: fifo });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /cannot write the trace file .*FIFO/);
  });

  it('writes a trace only its user can read', { skip: unixOnly }, async () => {
    const trace = join(dir, 'private.jsonl');
    const r = await runProgram(['test/fixtures/workload.ts', '10'], { LOCKSCOPE_TRACE: trace });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(trace).mode & 0o777, 0o600);
  });
});

describe('socket collector', () => {
  it('delivers every event, the idle message and the end to a working collector', async () => {
    const received: Message[] = [];
    const collector = await startCollector({ onMessage: (_c, m) => received.push(m) });
    try {
      const r = await runProgram(['test/fixtures/workload.ts', '5000'], collector.env());
      assert.equal(r.code, 0, r.stderr);
      const s = lastJson<Stats>(r.stdout);
      assertAccounted(s);
      assert.equal(s.dropped, 0);
      await waitFor(() => received.some((m) => m.t === 'end'));
      const events = received.reduce((n, m) => n + (m.t === 'events' ? m.events.length : 0), 0);
      assert.equal(events, s.produced);
      assert.ok(received.some((m) => m.t === 'idle'));
    } finally {
      await collector.close();
    }
  });

  it('receives everything from a program in which every task is blocked', async () => {
    const received: Message[] = [];
    const collector = await startCollector({ onMessage: (_c, m) => received.push(m) });
    try {
      const r = await runProgram(['examples/dining-philosophers.ts'], collector.env());
      assert.ok(r.code === 0 || r.code === 13, r.stderr);
      await waitFor(() => received.some((m) => m.t === 'end'));
      const ops = received.flatMap((m) => (m.t === 'events' ? m.events.map((e) => e.op) : []));
      assert.deepEqual(ops.filter((o) => o === 'acquired').length, 5);
      assert.deepEqual(ops.filter((o) => o === 'request').length, 5);
      assert.ok(received.some((m) => m.t === 'idle'));
    } finally {
      await collector.close();
    }
  });

  it('lets the program finish when the collector stops reading, counting what it drops', async () => {
    const held: Socket[] = [];
    const { path, server } = await rawServer((s) => {
      s.pause();
      held.push(s);
    });
    try {
      const s = await runReporting(path, ['test/fixtures/workload.ts', '200000']);
      assert.ok(s.dropped > 0, 'a collector that never reads makes the probe drop');
      assert.ok(s.sent > 0, 'what fit in the socket was sent');
    } finally {
      for (const s of held) s.destroy();
      server.close();
    }
  });

  // In both modes: lossless mode stops waiting for a collector that is gone.
  for (const lossless of [false, true]) {
    it(`lets the program finish when the collector disconnects mid-run${lossless ? ', in lossless mode' : ''}`, async () => {
      // Gone once two batches have arrived whole: the first was written (so some events were
      // sent), and the rest of the run is lost. (A byte count could cut the first batch, and
      // then nothing would have been sent.)
      const { path, server } = await rawServer((s) => {
        let batches = 0;
        onMessages(s, (m) => {
          if (m.t === 'events' && ++batches === 2) s.destroy();
        });
      });
      try {
        const r = await runProgram(['test/fixtures/workload.ts', lossless ? '200000' : '50000'], {
          LOCKSCOPE_ENDPOINT: path,
          LOCKSCOPE_TOKEN: 'x',
          ...(lossless ? { LOCKSCOPE_LOSSLESS: '1' } : {}),
        });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /lost the collector/);
        const s = lastJson<Stats>(r.stdout);
        assertAccounted(s);
        assert.ok(s.sent > 0 && s.dropped > 0, `sent ${s.sent}, dropped ${s.dropped}`);
      } finally {
        server.close();
      }
    });
  }

  it('tells the collector of a gap before the events that follow it', async () => {
    const lines: { t: string; name?: string; dropped?: number }[] = [];
    const resumed = join(dir, `resumed-${Math.random().toString(16).slice(2)}`);
    const { path, server } = await rawServer((s) => {
      // Paused for less than the stall watchdog's 2 s: batches past the high-water mark (64 KB
      // here, so that the pause costs events however slow the machine) are dropped meanwhile,
      // and the connection lives on. Once it is read again, the program works a second time.
      s.pause();
      setTimeout(() => {
        s.resume();
        writeFileSync(resumed, '');
      }, 1_000);
      onMessages(s, (m) => lines.push(m));
    });
    try {
      const r = await runProgram(
        ['test/fixtures/workload.ts', '100000', String(64 * 1024), resumed],
        { LOCKSCOPE_ENDPOINT: path, LOCKSCOPE_TOKEN: 'x' },
      );
      assert.equal(r.code, 0, r.stderr);
      // After a gap the registries are sent again: the second registration of the mutex starts
      // the events after the gap, and a heartbeat that counts the loss must come before it.
      const registrations = lines.flatMap((m, i) =>
        m.t === 'resource' && m.name === 'work' ? [i] : [],
      );
      assert.ok(registrations.length >= 2, 'the collector was paused long enough to lose events');
      const told = lines.findIndex((m) => m.t === 'heartbeat' && (m.dropped ?? 0) > 0);
      assert.ok(
        told >= 0 && told < registrations[1]!,
        `told at ${told}, resumed at ${registrations[1]}`,
      );
    } finally {
      server.close();
    }
  });

  it('reconnects after a stall as the same process, and counts the gap', async () => {
    // The first connection is never read: the probe sees no progress for 2 s, drops it and
    // connects again. The second is read to the end.
    const streams: Message[][] = [];
    const held: Socket[] = [];
    const { path, server } = await rawServer((s) => {
      const lines: Message[] = [];
      streams.push(lines);
      if (streams.length === 1) {
        s.pause();
        held.push(s);
        return;
      }
      onMessages(s, (m) => lines.push(m));
    });
    try {
      const s = await runReporting(path, ['test/fixtures/steady.ts', '5000']);
      assert.ok(s.dropped > 0, 'the stalled connection cost events');
      assert.equal(streams.length, 2, 'one reconnection');
      const [hello, told] = streams[1]!;
      assert.equal(hello?.t, 'hello');
      // The collector learns of the gap before any event of the new connection.
      assert.ok(told?.t === 'heartbeat' && told.dropped > 0, JSON.stringify(told));
      const end = streams[1]!.find((m) => m.t === 'end');
      assert.ok(end?.t === 'end' && end.dropped === s.dropped, 'the end counts every drop');
      assert.ok(
        streams[1]!.some((m) => m.t === 'events' && m.events.length > 0),
        'events arrive after the reconnection',
      );
    } finally {
      for (const s of held) s.destroy();
      server.close();
    }
  });

  it("bounds the I/O thread's queue for workers, and counts what it drops", async () => {
    // Not read while four busy workers post: the I/O thread drops past its high-water mark (64 KB
    // here) instead of queueing everything, tells of the gap on its own stream, and the end
    // counts it.
    const streams: Message[][] = [];
    const ioSockets: Socket[] = [];
    let threadsEnded = 0;
    const { path, server } = await rawServer((s) => {
      const lines: Message[] = [];
      streams.push(lines);
      onMessages(s, (m) => {
        lines.push(m);
        // The I/O thread's connection is not read until every worker has ended: whatever the
        // machine's speed, its queue passes its high-water mark meanwhile.
        if (m.t === 'hello' && m.thread !== 0) {
          s.pause();
          ioSockets.push(s);
        }
        if (m.t === 'events') {
          threadsEnded += m.events.filter((e) => e.op === 'thread-exit').length;
          if (threadsEnded === 4) for (const io of ioSockets) io.resume();
        }
      });
    });
    try {
      const r = await runProgram(['test/fixtures/steady-workers.ts', '1000', String(64 * 1024)], {
        LOCKSCOPE_ENDPOINT: path,
        LOCKSCOPE_TOKEN: 'x',
      });
      assert.equal(r.code, 0, r.stderr);
      const io = streams.find((lines) => lines[0]?.t === 'hello' && lines[0].thread !== 0);
      assert.ok(io, 'the I/O thread connected');
      const told = io.findIndex((m) => m.t === 'heartbeat' && m.dropped > 0);
      assert.ok(told > 0, 'the I/O thread told of its gap');
      const end = streams.flat().find((m) => m.t === 'end');
      assert.ok(end?.t === 'end' && end.dropped > 0, 'the end counts the dropped events');
    } finally {
      server.close();
    }
  });

  it('in lossless mode, waits for a collector that pauses for 3 s, and loses nothing', async () => {
    let received = 0;
    const { path, server } = await rawServer((s) => {
      s.pause();
      setTimeout(() => s.resume(), 3_000);
      onMessages(s, (m) => {
        if (m.t === 'events') received += m.events.length;
      });
    });
    try {
      const r = await runProgram(['test/fixtures/workload.ts', '200000'], {
        LOCKSCOPE_ENDPOINT: path,
        LOCKSCOPE_TOKEN: 'x',
        LOCKSCOPE_LOSSLESS: '1',
      });
      assert.equal(r.code, 0, r.stderr);
      const s = lastJson<Stats>(r.stdout);
      assertAccounted(s);
      assert.equal(s.dropped, 0);
      assert.equal(received, s.produced);
    } finally {
      server.close();
    }
  });

  it('lets the program run when no collector listens at the endpoint', async () => {
    const r = await runProgram(['test/fixtures/workload.ts', '1000'], {
      LOCKSCOPE_ENDPOINT: join(dir, 'nobody-listens.sock'),
      LOCKSCOPE_TOKEN: 'x',
    });
    assert.equal(r.code, 0, r.stderr);
    const s = lastJson<Stats>(r.stdout);
    assertAccounted(s);
    assert.equal(s.sent, 0);
    assert.match(r.stderr, /lost the collector/);
  });

  it('says the endpoint is missing even when the program records nothing for a while', async () => {
    const r = await runProgram(['test/fixtures/steady.ts', '300'], {
      LOCKSCOPE_ENDPOINT: join(dir, 'nobody-listens-either.sock'),
      LOCKSCOPE_TOKEN: 'x',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /lost the collector .*ENOENT/);
    const s = lastJson<Stats>(r.stdout);
    assertAccounted(s);
    assert.equal(s.sent, 0);
  });

  it('is refused without the right token, and the program does not notice', async () => {
    const rejected: string[] = [];
    const collector = await startCollector({
      onReject: (_c, _reason, code) => rejected.push(code),
    });
    try {
      const r = await runProgram(['test/fixtures/workload.ts', '100'], {
        ...collector.env(),
        LOCKSCOPE_TOKEN: 'not the token',
      });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(rejected, ['bad-token']);
    } finally {
      await collector.close();
    }
  });
});

describe('both builds in one process', () => {
  it('share one runtime: one task identity, one recorder, classes recognised across builds', async () => {
    const trace = join(dir, 'dual.jsonl');
    const r = await runProgram(['test/fixtures/dual-build.mts'], { LOCKSCOPE_TRACE: trace });
    assert.equal(r.code, 0, r.stderr);
    const out = lastJson<Record<string, unknown>>(r.stdout);
    assert.equal(out.distinctModules, true, 'the two builds really are different modules');
    assert.equal(out.sameTask, true);
    assert.equal(out.crossInstanceOf, true);
    assert.equal(out.classesAcross, true, 'instanceof holds across the builds, both ways');
    assert.equal(out.mixups, 0, 'and only for the same class');
    assert.equal(out.subclass, true, "a user's subclass keeps the ordinary instanceof");
    assert.equal(out.produced, out.producedSeenByCjs);
    const messages = readTrace(trace);
    assert.equal(messages.filter((m) => m.t === 'hello').length, 1, 'one stream, one hello');
    const names = messages.flatMap((m) => (m.t === 'resource' ? [m.name] : []));
    assert.ok(names.includes('from esm') && names.includes('from cjs'));
  });
});

describe('bounded memory', () => {
  it('returns to its starting heap after a million short tasks with a sink attached', async () => {
    const r = await runProgram(
      ['test/fixtures/million-tasks.ts', '1000000'],
      { LOCKSCOPE_STACKS: 'off' },
      { nodeArgs: ['--expose-gc', '--import', 'tsx'], timeoutMs: 180_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    const m = lastJson<{
      growthMb: number;
      heapBeforeMb: number;
      heapAfterMb: number;
      produced: number;
      received: number;
    }>(r.stdout);
    console.log(
      `heap before ${m.heapBeforeMb.toFixed(2)} MB, after a million tasks ${m.heapAfterMb.toFixed(2)} MB ` +
        `(growth ${m.growthMb.toFixed(2)} MB); ${m.produced} events produced, ${m.received} received`,
    );
    assert.ok(m.growthMb < 4, `heap grew by ${m.growthMb} MB`);
    assert.equal(m.received, m.produced);
  });
});

async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the collector');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("the program's fake timers", () => {
  it('neither stop the probe from flushing nor bend its timestamps', async () => {
    const started = Date.now();
    const r = await runProgram(['test/fixtures/fake-timers.ts'], {});
    assert.equal(r.code, 0, r.stderr);
    const m = lastJson<{ events: number; first: number; last: number }>(r.stdout);
    // Ten acquisitions and releases, all delivered although the fake clock never fired the
    // probe's flush after its one jump.
    assert.equal(m.events, 20);
    // Real epoch times (the fake clock starts at 0 and jumps by 1e9 ms halfway), in order.
    assert.ok(m.first >= started - 60_000 && m.last <= Date.now() + 60_000, JSON.stringify(m));
    assert.ok(m.last >= m.first && m.last - m.first < 1e9, JSON.stringify(m));
  });
});
