// The extension's session on plain Node, over real sockets: several programs at once, a wrong
// token, garbage, version skew, and a program that dies mid-stream.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { Session } from '../../extension/src/session.js';
import { TraceBuilder } from '../trace-builder.js';
import { runProgram } from './run-program.js';
import { helloLine } from '../wire.js';

const guard = {
  timeout: 120_000,
  skip: process.platform === 'win32' ? 'Unix sockets only' : false,
};

/** Waits until `check` holds, polling; a guard against a hang, not a timing assertion. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

async function connect(session: Session): Promise<Socket> {
  const socket = createConnection(session.endpoint);
  await once(socket, 'connect');
  // Read (and drop) what the collector says, so that its closing reaches 'close'.
  socket.resume();
  return socket;
}

/** The lines of a deadlock between two tasks of process `pid`, after its hello. */
function deadlockLines(pid: number, token: string): string[] {
  const text = new TraceBuilder(pid)
    .task(1, 'alice')
    .task(2, 'bob')
    .resource(11, 'mutex', 'a')
    .resource(12, 'mutex', 'b')
    .ev(0, 'acquired', 1, 11)
    .ev(1, 'acquired', 2, 12)
    .ev(2, 'request', 1, 12)
    .ev(3, 'request', 2, 11)
    .text();
  const [hello, ...rest] = text.trim().split('\n');
  const withToken = { ...(JSON.parse(hello!) as object), token };
  return [JSON.stringify(withToken), ...rest];
}

describe('session', guard, () => {
  const logs: string[] = [];
  const refusals: { reason: string; code: string }[] = [];
  let changes = 0;
  let session: Session;

  test('starts a private collector', async () => {
    session = await Session.start(
      {
        log: (l) => logs.push(l),
        onRefused: (reason, code) => refusals.push({ reason, code }),
        onChange: () => changes++,
      },
      { updateMs: 10 },
    );
    assert.match(session.env().LOCKSCOPE_TOKEN!, /^[0-9a-f]{48}$/);
  });

  test('two programs at once, each its own process; findings and coalesced changes', async () => {
    const token = session.env().LOCKSCOPE_TOKEN!;
    const [a, b] = await Promise.all([connect(session), connect(session)]);
    a.write(deadlockLines(1001, token).join('\n') + '\n');
    b.write(helloLine(token, { pid: 1002 }) + '\n');
    await until(
      () =>
        session.analyzer.state().processes.length === 2 && session.analyzer.findings.length === 1,
    );
    assert.deepEqual(
      session.analyzer.state().processes.map((p) => [p.pid, p.status]),
      [
        [1001, 'running'],
        [1002, 'running'],
      ],
    );
    assert.equal(session.analyzer.findings[0]?.kind, 'deadlock');
    await until(() => changes > 0);
    a.destroy();
    b.destroy();
  });

  test('a busy program run in the session (as Run File does) arrives whole, nothing found', async () => {
    const before = session.analyzer.state().processes.length;
    const r = await runProgram(['test/fixtures/busy.ts', '1000000'], session.env(), {
      timeoutMs: 120_000,
    });
    assert.equal(r.code, 0, r.stderr);
    await until(() => session.analyzer.state().processes.length > before);
    const proc = session.analyzer.state().processes.at(-1)!;
    await until(() => session.analyzer.state().processes.at(-1)!.status === 'exited');
    const ended = session.analyzer.state().processes.at(-1)!;
    assert.equal(ended.key, proc.key);
    assert.deepEqual([ended.produced, ended.dropped, ended.exitCode], [2_000_000, 0, 0]);
    assert.deepEqual(
      session.analyzer.findings.filter((f) => f.resources.some((res) => res.name === 'busy')),
      [],
    );
  });

  test('a connection without the token is refused; the session goes on', async () => {
    const socket = await connect(session);
    socket.write(helloLine('0'.repeat(48), { pid: 2001 }) + '\n');
    await once(socket, 'close');
    assert.equal(refusals.at(-1)?.code, 'bad-token');
    assert.ok(session.analyzer.state().processes.every((p) => p.pid !== 2001));
  });

  test('garbage closes that connection with a logged reason; others keep reporting', async () => {
    const token = session.env().LOCKSCOPE_TOKEN!;
    const good = await connect(session);
    good.write(helloLine(token, { pid: 3001 }) + '\n');
    const bad = await connect(session);
    bad.write(helloLine(token, { pid: 3002 }) + '\n{"t":"events","thread":"zero"}\n');
    await once(bad, 'close');
    assert.ok(
      logs.some((l) => /refused: .*thread/.test(l)),
      logs.join('\n'),
    );
    good.write(
      JSON.stringify({ t: 'heartbeat', ts: 1_700_000_000_500, produced: 7, dropped: 3 }) + '\n',
    );
    await until(() =>
      session.analyzer.state().processes.some((p) => p.pid === 3001 && p.dropped === 3),
    );
    good.destroy();
  });

  test('a protocol from the future gets an actionable message', async () => {
    const socket = await connect(session);
    socket.write(helloLine(session.env().LOCKSCOPE_TOKEN, { pid: 4001, protocol: 99 }) + '\n');
    await once(socket, 'close');
    assert.equal(refusals.at(-1)?.code, 'version');
    assert.match(refusals.at(-1)!.reason, /protocol 99/);
  });

  test('a program that dies mid-stream is shown as ended', async () => {
    const socket = await connect(session);
    socket.write(helloLine(session.env().LOCKSCOPE_TOKEN, { pid: 5001 }) + '\n{"t":"task","id":1,');
    await until(() => session.analyzer.state().processes.some((p) => p.pid === 5001));
    socket.destroy();
    await until(
      () => session.analyzer.state().processes.find((p) => p.pid === 5001)?.status === 'cut',
    );
  });

  test('a new run starts afresh once nothing is connected', async () => {
    await until(() => session.connections === 0);
    assert.ok(session.analyzer.findings.length > 0);
    assert.equal(session.reset(), true);
    assert.deepEqual(session.analyzer.findings, []);
    assert.deepEqual(session.analyzer.state().processes, []);
    const socket = await connect(session);
    socket.write(helloLine(session.env().LOCKSCOPE_TOKEN, { pid: 6001 }) + '\n');
    await until(() => session.analyzer.state().processes.length === 1);
    assert.equal(session.reset(), false, 'a program still reporting keeps its state');
    socket.destroy();
  });

  after(() => session?.close());
});
