// `lockscope collect --listen`, the collector other hosts can reach, on loopback: a program given
// the environment it prints reports over TLS keyed by the token, and its deadlock is found while
// it waits and is in the report at Ctrl+C; a program with another token is refused, and both
// sides say so; the listener applies the local collector's limits before a peer's handshake.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { HANDSHAKES_PER_ADDRESS } from '../../runtime-probe/src/collector-remote.js';
import { startCollector, type RejectCode } from '../../runtime-probe/src/collector.js';
import {
  connectCollector,
  parseHostPort,
  pskOf,
  remoteEndpoint,
} from '../../runtime-probe/src/remote.js';
import { Collect } from './collect-process.js';
import { runLockscope, runProgram } from './run-program.js';

const root = resolve(import.meta.dirname, '../..');
const philosophers = join(root, 'examples', 'dining-philosophers.ts');

describe('lockscope collect --listen', () => {
  const started: Collect[] = [];
  after(() => {
    for (const c of started) c.child.kill('SIGKILL');
  });
  const collect = (...args: string[]): Collect => {
    const c = new Collect(args);
    started.push(c);
    return c;
  };

  test('a program with the printed environment reports over TLS: its deadlock, then the report', async () => {
    const c = collect('--listen', '127.0.0.1:0');
    const env = await c.env();
    assert.match(env.LOCKSCOPE_ENDPOINT!, /^tls:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(env.LOCKSCOPE_LOSSLESS, '1');
    const program = runProgram([philosophers], env);
    // Found as the cycle closes, before anyone ends the session.
    const found = c.waitFor(
      /found: error deadlock: Deadlock: Philosopher\.dine #1 waits for fork 1/,
    );
    await Promise.race([found, program]);
    const r = await program;
    await found.catch((err: Error) => {
      throw new Error(`${err.message}\nthe program said:\n${r.stderr}`);
    });
    assert.match(c.stderr, /process \d+ \(.*\) connected/);
    c.child.kill('SIGINT');
    assert.equal(await c.exited, 1, c.stderr);
    assert.match(c.stdout, /✖ deadlock {2}Deadlock: 5 tasks wait for each other in a cycle/);
    assert.match(c.stdout, /examples\/dining-philosophers\.ts:34:42/);
  });

  for (const lossless of ['1', '0']) {
    test(`another token is refused, and both sides say so (lossless ${lossless})`, async () => {
      const c = collect('--listen', '127.0.0.1:0');
      const env = await c.env();
      const r = await runProgram([join(root, 'test', 'fixtures', 'remote-refused.ts')], {
        ...env,
        LOCKSCOPE_TOKEN: 'not the token',
        LOCKSCOPE_LOSSLESS: lossless,
      });
      assert.match(
        r.stderr,
        /the collector at tls:\/\/127\.0\.0\.1:\d+ refused the connection: the TLS handshake failed, so the token \(LOCKSCOPE_TOKEN\) is not that collector's/,
      );
      await c.waitFor(/connection refused: a connection did not present the right token/);
      c.child.kill('SIGINT');
      assert.equal(await c.exited, 0);
      assert.match(c.stdout, /no findings/i);
    });
  }

  test('what it is given is checked where it enters', async () => {
    const bad = await runLockscope(['collect', '--listen', 'nowhere']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--listen: "nowhere" is not HOST:PORT/);
    const notRun = await runLockscope(['run', '--listen', '127.0.0.1:0', philosophers]);
    assert.equal(notRun.code, 2);
    assert.match(notRun.stderr, /--listen is for collect/);
    const program = await runLockscope(['collect', philosophers]);
    assert.equal(program.code, 2);
    assert.match(program.stderr, /collect takes no program/);
  });
});

describe('the remote listener', () => {
  test('HOST:PORT, and one key per token', () => {
    assert.deepEqual(parseHostPort('0.0.0.0:7000'), { host: '0.0.0.0', port: 7000 });
    assert.deepEqual(parseHostPort('[::1]:7000'), { host: '::1', port: 7000 });
    assert.deepEqual(parseHostPort('[fe80::1%eth0]:7000'), { host: 'fe80::1%eth0', port: 7000 });
    assert.deepEqual(parseHostPort('0.0.0.0:0', 'listen'), { host: '0.0.0.0', port: 0 });
    for (const bad of ['7000', 'host:', 'host:70000', ':7000', 'a b:1', 'a/b:1', '[:]:1']) {
      assert.equal(typeof parseHostPort(bad), 'string', bad);
    }
    assert.match(parseHostPort('[1.2.3.4]:1') as string, /is not HOST:PORT/);
    assert.match(parseHostPort('host:0') as string, /port 0 is only for --listen/);
    assert.deepEqual(pskOf('a'), pskOf('a'));
    assert.notDeepEqual(pskOf('a'), pskOf('b'));
    assert.equal(pskOf('a').length, 32);
  });

  test('one address cannot take every place before the handshake', async () => {
    const refused: RejectCode[] = [];
    const collector = await startCollector(
      { onReject: (_conn, _reason, code) => refused.push(code) },
      { helloMs: 2_000 },
      { listen: { host: '127.0.0.1', port: 0 } },
    );
    try {
      const { port } = collector.remote!;
      const sockets = Array.from({ length: HANDSHAKES_PER_ADDRESS + 1 }, () =>
        connect(port, '127.0.0.1').on('error', () => {}),
      );
      const last = sockets.at(-1)!;
      await new Promise((r) => last.once('close', r));
      assert.deepEqual(refused, ['too-many-connections']);
      for (const s of sockets) s.destroy();
    } finally {
      await collector.close();
    }
  });

  test('limits before the handshake: a silent peer, a plain-text peer, too many at once', async () => {
    const refused: RejectCode[] = [];
    const collector = await startCollector(
      { onReject: (_conn, _reason, code) => refused.push(code) },
      { helloMs: 300, pending: 2 },
      { listen: { host: '127.0.0.1', port: 0 } },
    );
    try {
      const { port } = collector.remote!;
      const closed = (socket: ReturnType<typeof connect>): Promise<void> =>
        new Promise((done) => socket.on('close', () => done()).on('error', () => {}));
      // Two peers that never start their handshake hold both places; a third is refused.
      const silent = [connect(port, '127.0.0.1'), connect(port, '127.0.0.1')];
      await Promise.all(silent.map((s) => new Promise((r) => s.once('connect', r))));
      await new Promise((r) => setTimeout(r, 50));
      const third = connect(port, '127.0.0.1');
      await closed(third);
      await Promise.all(silent.map(closed));
      const plain = connect(port, '127.0.0.1', () => plain.write('{"t":"hello"}\n'));
      await closed(plain);
      // A peer with the token's key gets through to the protocol.
      const good = connectCollector(remoteEndpoint(collector.remote!), collector.token);
      await new Promise((r) => good.once('secureConnect', r));
      good.destroy();
      assert.deepEqual(refused.sort(), [
        'bad-message',
        'handshake-timeout',
        'handshake-timeout',
        'too-many-connections',
      ]);
    } finally {
      await collector.close();
    }
  });
});
