// `lockscope debug-adapter` spoken to as VS Code speaks to it (the Debug Adapter Protocol on
// stdio), on plain Node: the dining philosophers' five flows are the threads; stepping chosen
// flows reaches the deadlock, which stops the session with the finding; Step Back replays to the
// decision before; breakpoints are refused with a reason; a bad launch is refused with what is
// wrong.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Report } from 'lockscope/report';
import { NODE } from './run-program.js';

const root = resolve(import.meta.dirname, '../..');
const bin = join(root, 'runtime-probe', 'bin', 'lockscope.cjs');

interface Message {
  type: 'response' | 'event';
  seq: number;
  command?: string;
  event?: string;
  request_seq?: number;
  success?: boolean;
  message?: string;
  body?: Record<string, unknown>;
}

/** A minimal DAP client: requests answered in order, events kept as they come. */
class Client {
  readonly child: ChildProcessWithoutNullStreams;
  readonly events: Message[] = [];
  #seq = 1;
  #buffer = Buffer.alloc(0);
  #waiting = new Map<number, (m: Message) => void>();
  #eventWaiters: { name: string; resolve: (m: Message) => void }[] = [];

  constructor() {
    this.child = spawn(NODE, [bin, 'debug-adapter'], { cwd: root });
    this.child.stdout.on('data', (d: Buffer) => this.#read(d));
  }

  #read(data: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, data]);
    for (;;) {
      const head = this.#buffer.indexOf('\r\n\r\n');
      if (head < 0) return;
      const length = Number(
        /Content-Length: (\d+)/.exec(this.#buffer.subarray(0, head).toString())![1],
      );
      if (this.#buffer.length < head + 4 + length) return;
      const m = JSON.parse(
        this.#buffer.subarray(head + 4, head + 4 + length).toString(),
      ) as Message;
      this.#buffer = this.#buffer.subarray(head + 4 + length);
      if (m.type === 'response') this.#waiting.get(m.request_seq!)?.(m);
      else {
        this.events.push(m);
        const i = this.#eventWaiters.findIndex((w) => w.name === m.event);
        if (i >= 0) this.#eventWaiters.splice(i, 1)[0]!.resolve(m);
      }
    }
  }

  request(command: string, args: Record<string, unknown> = {}): Promise<Message> {
    const seq = this.#seq++;
    const text = JSON.stringify({ seq, type: 'request', command, arguments: args });
    this.child.stdin.write(`Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
    return new Promise((done) => this.#waiting.set(seq, done));
  }

  /** The next event named `name` (one that came already and was not taken, or the next one). */
  event(name: string): Promise<Message> {
    return new Promise((done) => this.#eventWaiters.push({ name, resolve: done }));
  }

  /** Sends a request and waits for the stop it causes. */
  async stopAfter(command: string, args: Record<string, unknown> = {}): Promise<Message> {
    const stopped = this.event('stopped');
    const r = await this.request(command, args);
    assert.ok(r.success, `${command}: ${r.message ?? ''}`);
    return stopped;
  }

  /** The run's analysis the adapter sent with its last stop, for the Problems panel and graph. */
  lastReport(): { step: number; report: Report } {
    const sent = this.events.filter((e) => e.event === 'lockscope/report').pop();
    assert.ok(sent, 'the adapter sent no report');
    return sent.body as unknown as { step: number; report: Report };
  }

  async threads(): Promise<{ id: number; name: string }[]> {
    const r = await this.request('threads');
    return r.body!.threads as { id: number; name: string }[];
  }
}

describe('the debug adapter', () => {
  const clients: Client[] = [];
  after(() => {
    for (const c of clients) c.child.kill();
  });
  const open = async (): Promise<Client> => {
    const c = new Client();
    clients.push(c);
    const init = await c.request('initialize', {
      adapterID: 'lockscope',
      pathFormat: 'path',
      linesStartAt1: true,
      columnsStartAt1: true,
    });
    assert.equal(init.body!.supportsStepBack, true);
    return c;
  };

  test('steps the dining philosophers to their deadlock, and back', async () => {
    const c = await open();
    const entry = await c.stopAfter('launch', {
      program: join(root, 'examples', 'dining-philosophers.ts'),
    });
    assert.equal(entry.body!.reason, 'entry');
    let threads = await c.threads();
    assert.deepEqual(
      threads.map((t) => t.name.split(':')[0]),
      [1, 2, 3, 4, 5].map((n) => `Philosopher.dine #${n}`),
    );
    assert.match(threads[0]!.name, /is about to acquire fork 0/);
    const frames = await c.request('stackTrace', { threadId: threads[0]!.id });
    const [frame] = frames.body!.stackFrames as { line: number; source: { path: string } }[];
    assert.equal(frame!.line, 31);
    assert.match(frame!.source.path, /dining-philosophers\.ts$/);
    // You are the scheduler: every philosopher takes a left fork; then, one at a time, each
    // one's sleep ends (a timer ends only when no flow is ready, as in Node) and it reaches for
    // its right fork.
    const byName = new Map(threads.map((t) => [t.name.split(':')[0]!, t.id]));
    const order = [1, 2, 3, 4, 5].map((n) => byName.get(`Philosopher.dine #${n}`)!);
    for (const id of order) await c.stopAfter('next', { threadId: id });
    let last: Message | undefined;
    for (const id of order) {
      await c.stopAfter('next', { threadId: id });
      last = await c.stopAfter('next', { threadId: id });
    }
    assert.equal(last!.body!.reason, 'exception');
    assert.match(String(last!.body!.text), /Deadlock: 5 tasks wait for each other in a cycle/);
    threads = await c.threads();
    assert.ok(threads.every((t) => /waits for fork \d, held by Philosopher\.dine/.test(t.name)));
    // The views follow the step: the report sent with the stop has the deadlock, at the five
    // waiting lines, and the graph's five waits.
    const atDeadlock = c.lastReport();
    assert.equal(atDeadlock.step, 15);
    const [deadlock, ...others] = atDeadlock.report.findings;
    assert.equal(others.length, 0);
    assert.equal(deadlock!.kind, 'deadlock');
    assert.deepEqual(
      deadlock!.cycle!.map((e) => e.waitSite?.line),
      [34, 34, 34, 34, 34],
    );
    assert.equal(atDeadlock.report.graph.edges.filter((e) => e.type === 'waits').length, 5);
    // A blocked flow cannot be stepped, and the adapter says why.
    const refused = await c.request('next', { threadId: order[0]! });
    assert.equal(refused.success, false);
    assert.match(refused.message!, /the run is over/);
    // Step Back: the decision before the last, replayed.
    const back = await c.stopAfter('stepBack');
    assert.equal(back.body!.reason, 'step');
    threads = await c.threads();
    assert.equal(threads.filter((t) => /is about to acquire fork/.test(t.name)).length, 1);
    const before = c.lastReport();
    assert.equal(before.step, 14);
    assert.deepEqual(before.report.findings, []);
    assert.equal(before.report.graph.edges.filter((e) => e.type === 'waits').length, 4);
    // "Run This Flow Next", the custom request of the Call Stack's menu.
    const ready = threads.find((t) => /is about to/.test(t.name))!;
    const again = await c.stopAfter('runFlowNext', { threadId: ready.id });
    assert.equal(again.body!.reason, 'exception');
  });

  test('refuses breakpoints with a reason, and a launch without a program', async () => {
    const c = await open();
    const bp = await c.request('setBreakpoints', {
      source: { path: join(root, 'examples', 'dining-philosophers.ts') },
      breakpoints: [{ line: 31 }],
    });
    const [b] = bp.body!.breakpoints as { verified: boolean; message: string }[];
    assert.equal(b!.verified, false);
    assert.match(b!.message, /breakpoints and variables are not available/);
    const launch = await c.request('launch', {});
    assert.equal(launch.success, false);
    assert.match(launch.message!, /needs "program"/);
  });
});
