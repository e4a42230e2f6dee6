// A real collector on a Unix socket, with clients that speak protocol v1 over node:net.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection, type Socket } from 'node:net';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  startCollector,
  type Collector,
  type CollectorHandlers,
  type Connection,
  PRE_AUTH,
  type RejectCode,
} from '../../runtime-probe/src/collector.js';
import { type Hello, type Message } from '../../runtime-probe/src/protocol.js';
import { eventsLine, helloLine, TASK_LINE } from '../wire.js';

const unixOnly = { skip: process.platform === 'win32' ? 'Unix sockets only' : false };
/** A guard against a hang, not a timing assertion. */
const guard = { timeout: 30_000 };

/** Handlers that record what the collector reports and let a test wait for a condition. */
class Recorder implements CollectorHandlers {
  readonly messages: { conn: Connection; message: Message }[] = [];
  readonly rejects: { conn: Connection; reason: string; code: RejectCode }[] = [];
  readonly ends: Connection[] = [];
  #waiters: (() => void)[] = [];

  onMessage = (conn: Connection, message: Message): void => {
    this.messages.push({ conn, message });
    this.#wake();
  };

  onReject = (conn: Connection, reason: string, code: RejectCode): void => {
    this.rejects.push({ conn, reason, code });
    this.#wake();
  };

  onEnd = (conn: Connection): void => {
    this.ends.push(conn);
    this.#wake();
  };

  /** Resolves once `condition` holds, re-checking it after every report. */
  async until(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** The messages of the connection whose hello carried `pid`. */
  of(pid: number): Message[] {
    return this.messages.filter((m) => m.conn.session.hello?.pid === pid).map((m) => m.message);
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

/** A probe-side connection that records what the collector writes back. */
class Client {
  received = '';
  readonly closed: Promise<void>;

  constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (this.received += chunk));
    // A write racing with the collector's close may fail; what matters is what was received.
    socket.on('error', () => {});
    this.closed = once(socket, 'close').then(() => undefined);
  }

  static async connect(endpoint: string): Promise<Client> {
    const socket = createConnection(endpoint);
    await once(socket, 'connect');
    return new Client(socket);
  }

  send(...lines: string[]): void {
    this.socket.write(lines.map((l) => l + '\n').join(''));
  }

  /** The single error message the collector wrote before closing the connection. */
  errorMessage(): string {
    const lines = this.received.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, `expected one error line, got ${JSON.stringify(this.received)}`);
    const parsed: unknown = JSON.parse(lines[0]!);
    assert.ok(typeof parsed === 'object' && parsed !== null);
    const { t, message } = parsed as { t?: unknown; message?: unknown };
    assert.equal(t, 'error');
    assert.equal(typeof message, 'string');
    return message as string;
  }
}

function hello(collector: Collector, extra: Partial<Hello> = {}): string {
  return helloLine(collector.token, extra);
}

const events = eventsLine;
const TASK = TASK_LINE;

/** Starts a collector with a fresh Recorder, runs `body`, and always closes the collector. */
async function withCollector(
  body: (collector: Collector, rec: Recorder) => Promise<void>,
  limits: Parameters<typeof startCollector>[1] = {},
): Promise<void> {
  const rec = new Recorder();
  const collector = await startCollector(rec, limits);
  try {
    await body(collector, rec);
  } finally {
    await collector.close();
  }
}

describe('startCollector', { ...unixOnly, ...guard }, () => {
  it('listens on a socket in a directory only the user can open', async () => {
    await withCollector(async (collector) => {
      const dir = statSync(dirname(collector.endpoint));
      assert.ok(dir.isDirectory());
      assert.equal(dir.mode & 0o777, 0o700, `mode ${(dir.mode & 0o777).toString(8)}`);
      assert.equal(dir.uid, process.getuid?.());
      assert.ok(statSync(collector.endpoint).isSocket());
      assert.match(collector.token, /^[0-9a-f]{48}$/);
      assert.deepEqual(collector.env(), {
        LOCKSCOPE_ENDPOINT: collector.endpoint,
        LOCKSCOPE_TOKEN: collector.token,
        LOCKSCOPE_LOSSLESS: '1',
      });
      await withCollector(async (other) => {
        assert.notEqual(other.token, collector.token);
        assert.notEqual(dirname(other.endpoint), dirname(collector.endpoint));
        return Promise.resolve();
      });
    });
  });

  it('delivers the hello and the messages of a connection with the right token', async () => {
    await withCollector(async (collector, rec) => {
      const client = await Client.connect(collector.endpoint);
      client.send(hello(collector, { pid: 7 }), TASK, events('request', 'acquired', 'teleport'));
      await rec.until(() => rec.of(7).length === 3);
      const [h, task, batch] = rec.of(7);
      assert.equal(h?.t, 'hello');
      assert.equal(task?.t, 'task');
      assert.ok(batch?.t === 'events');
      assert.deepEqual(
        batch.events.map((e) => e.op),
        ['request', 'acquired', 'teleport'],
      );
      const conn = rec.messages[0]!.conn;
      assert.ok(collector.connections.has(conn));
      assert.equal(conn.session.hello?.pid, 7);
      assert.deepEqual(conn.session.counters, {
        messages: 3,
        events: 3,
        unknownMessages: 0,
        unknownOps: 1,
      });
      assert.equal(conn.closeReason, undefined);
      assert.equal(client.received, '', 'the collector writes nothing to a good connection');

      client.socket.end();
      await rec.until(() => rec.ends.includes(conn));
      assert.equal(conn.ended, true);
      assert.deepEqual(rec.rejects, []);
    });
  });

  it('reassembles lines split across writes, including inside a UTF-8 character', async () => {
    await withCollector(async (collector, rec) => {
      const client = await Client.connect(collector.endpoint);
      const bytes = Buffer.from(hello(collector, { pid: 8, title: 'naïve 😀 app' }) + '\n');
      const cut = bytes.indexOf(Buffer.from('😀')) + 2;
      client.socket.write(bytes.subarray(0, cut));
      await new Promise<void>((resolve) => setImmediate(resolve));
      client.socket.write(bytes.subarray(cut));
      // One large batch, which the socket delivers in several chunks.
      const many = Array.from({ length: 5000 }, (_, i) => (i % 2 ? 'released' : 'acquired'));
      client.send(events(...many));
      await rec.until(() => rec.of(8).length === 2);
      const [h, batch] = rec.of(8);
      assert.ok(h?.t === 'hello');
      assert.equal(h.title, 'naïve 😀 app');
      assert.ok(batch?.t === 'events');
      assert.equal(batch.events.length, 5000);
      assert.deepEqual(rec.rejects, []);
    });
  });

  it('refuses a connection with a wrong token: error line, close, onReject', async () => {
    await withCollector(async (collector, rec) => {
      const client = await Client.connect(collector.endpoint);
      const wrong = collector.token.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
      client.send(hello(collector, { pid: 9, token: wrong }), events('acquired'));
      await client.closed;
      assert.equal(client.errorMessage(), 'a connection did not present the right token');
      await rec.until(() => rec.rejects.length === 1 && rec.ends.length === 1);
      const [{ conn, reason, code }] = rec.rejects as [(typeof rec.rejects)[number]];
      assert.equal(code, 'bad-token');
      assert.equal(reason, 'a connection did not present the right token');
      assert.equal(conn.closeReason, reason);
      assert.equal(conn.session.hello, undefined);
      assert.equal(conn.ended, true);
      assert.deepEqual(rec.messages, [], 'nothing of a refused connection is delivered');
    });
  });

  it('refuses a connection without a token, or that does not start with a hello', async () => {
    await withCollector(async (collector, rec) => {
      const noToken = await Client.connect(collector.endpoint);
      noToken.send(hello(collector, { token: undefined }));
      await noToken.closed;
      assert.match(noToken.errorMessage(), /right token/);

      const noHello = await Client.connect(collector.endpoint);
      noHello.send(events('acquired'));
      await noHello.closed;
      // Nothing an unauthenticated peer sent is repeated, even in the error line.
      assert.equal(
        noHello.errorMessage(),
        'a connection sent something that is not a Lockscope hello',
      );

      await rec.until(() => rec.rejects.length === 2);
      assert.deepEqual(
        rec.rejects.map((r) => r.code),
        ['bad-token', 'no-hello'],
      );
      assert.deepEqual(rec.messages, []);
    });
  });

  it('refuses a probe of another protocol version with an actionable message', async () => {
    await withCollector(async (collector, rec) => {
      const newer = await Client.connect(collector.endpoint);
      newer.send(hello(collector, { protocol: 2 }));
      await newer.closed;
      assert.match(newer.errorMessage(), /protocol 2.*Update the Lockscope extension or CLI/);

      const older = await Client.connect(collector.endpoint);
      older.send(hello(collector, { protocol: 0 }));
      await older.closed;
      assert.match(older.errorMessage(), /Update the program's lockscope dependency/);

      await rec.until(() => rec.rejects.length === 2);
      assert.deepEqual(rec.messages, []);
    });
  });

  it('closes a connection that sends garbage while another keeps working', async () => {
    await withCollector(async (collector, rec) => {
      const good = await Client.connect(collector.endpoint);
      good.send(hello(collector, { pid: 1 }));
      await rec.until(() => rec.of(1).length === 1);

      const bad = await Client.connect(collector.endpoint);
      // In one write: the messages before the garbage are delivered, the one after it is not.
      bad.send(hello(collector, { pid: 2 }), TASK, 'this is not JSON', events('acquired'));
      await bad.closed;
      const message = bad.errorMessage();
      assert.match(message, /^message 3: not valid JSON/);

      await rec.until(() => rec.rejects.length === 1);
      const [{ conn: badConn, reason }] = rec.rejects as [(typeof rec.rejects)[number]];
      assert.equal(reason, message);
      assert.equal(badConn.session.hello?.pid, 2);
      assert.deepEqual(
        rec.of(2).map((m) => m.t),
        ['hello', 'task'],
      );

      good.send(TASK, events('request', 'acquired', 'released'));
      await rec.until(() => rec.of(1).length === 3);
      assert.deepEqual(
        rec.of(1).map((m) => m.t),
        ['hello', 'task', 'events'],
      );
      const goodConn = rec.messages.find((m) => m.conn.session.hello?.pid === 1)!.conn;
      assert.equal(goodConn.closeReason, undefined);
      assert.equal(goodConn.ended, false);
      assert.equal(goodConn.session.counters.events, 3);
      assert.equal(good.received, '');
      assert.equal(rec.rejects.length, 1);
    });
  });

  it('closes a connection that sends a well-formed message with a bad field', async () => {
    await withCollector(async (collector, rec) => {
      const client = await Client.connect(collector.endpoint);
      client.send(hello(collector), '{"t":"task","id":-1,"name":"x","kind":"flow","thread":0}');
      await client.closed;
      assert.match(
        client.errorMessage(),
        /message 2 \(task\)\.id: expected a non-negative integer/,
      );
      await rec.until(() => rec.rejects.length === 1);
    });
  });

  it('refuses a peer that sends a long line before its hello, without holding it', async () => {
    await withCollector(async (collector, rec) => {
      const client = await Client.connect(collector.endpoint);
      // No newline: before the fix, the collector held up to 64 MiB of such a line per peer.
      client.socket.write('x'.repeat(PRE_AUTH.maxLine + 1));
      await client.closed;
      assert.equal(client.errorMessage(), rec.rejects[0]?.reason);
      assert.deepEqual(
        rec.rejects.map((r) => r.code),
        ['line-too-long'],
      );
    });
  });

  it('takes a large line in the same chunk as the hello that precedes it', async () => {
    await withCollector(async (collector, rec) => {
      const client = await Client.connect(collector.endpoint);
      const big = JSON.stringify({ t: 'future-message', pad: 'y'.repeat(PRE_AUTH.maxLine * 2) });
      client.send(hello(collector, { pid: 5 }), big, TASK);
      await rec.until(() => rec.of(5).length === 2);
      assert.deepEqual(rec.rejects, []);
      client.socket.destroy();
    });
  });

  it('refuses a peer that sends no hello in time, and counts pending peers', async () => {
    await withCollector(
      async (collector, rec) => {
        const silent = await Client.connect(collector.endpoint);
        const others = [await Client.connect(collector.endpoint)];
        others.push(await Client.connect(collector.endpoint));
        // A third peer without a hello is one too many while two wait.
        await others[1]!.closed;
        await silent.closed;
        await rec.until(() => rec.rejects.length === 3);
        assert.deepEqual(rec.rejects.map((r) => r.code).sort(), [
          'hello-timeout',
          'hello-timeout',
          'too-many-connections',
        ]);
        // An authenticated peer is not limited by them.
        const good = await Client.connect(collector.endpoint);
        good.send(hello(collector, { pid: 6 }));
        await rec.until(() => rec.of(6).length === 1);
        good.socket.destroy();
      },
      { helloMs: 300, pending: 2 },
    );
  });

  it('never repeats what a peer without the token sent', async () => {
    await withCollector(async (collector, rec) => {
      const client = await Client.connect(collector.endpoint);
      client.send(
        hello(collector, { token: 'wrong', probe: 'click https://evil.example', protocol: 9 }),
      );
      await client.closed;
      await rec.until(() => rec.rejects.length === 1);
      const [{ reason, code }] = rec.rejects as [(typeof rec.rejects)[number]];
      assert.equal(code, 'bad-token');
      assert.doesNotMatch(reason + client.errorMessage(), /evil/);
    });
  });

  it('close() ends open connections and removes the socket directory', async () => {
    const rec = new Recorder();
    const collector = await startCollector(rec);
    const dir = dirname(collector.endpoint);
    const client = await Client.connect(collector.endpoint);
    client.send(hello(collector, { pid: 3 }));
    await rec.until(() => rec.of(3).length === 1);

    await collector.close();
    assert.equal(existsSync(dir), false, `${dir} should be removed`);
    await client.closed;
    await rec.until(() => rec.ends.length === 1);

    const late = createConnection(collector.endpoint);
    const [err] = (await once(late, 'error')) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'ENOENT');
  });

  it('close() works with no connection', async () => {
    const collector = await startCollector();
    const dir = dirname(collector.endpoint);
    assert.ok(existsSync(dir));
    await collector.close();
    assert.equal(existsSync(dir), false);
  });

  it('fails clearly and leaves nothing behind when the socket path is too long', async () => {
    const base = mkdtempSync(join(tmpdir(), 'lockscope-test-'));
    const long = join(base, 'd'.repeat(120));
    mkdirSync(long);
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = long;
    try {
      const error = await startCollector().then(
        async (collector) => {
          await collector.close();
          return new Error(`startCollector listened on ${collector.endpoint}`);
        },
        (err: unknown) => err,
      );
      assert.ok(error instanceof Error);
      assert.match(error.message, /longer than \d+ bytes.*set TMPDIR/);
      assert.deepEqual(readdirSync(long), [], 'no directory is left in TMPDIR');
      assert.deepEqual(readdirSync(base), ['d'.repeat(120)], 'no socket is bound elsewhere');
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      rmSync(base, { recursive: true, force: true });
    }
  });
});
