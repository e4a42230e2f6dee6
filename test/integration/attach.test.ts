// The editor attached to a `lockscope collect` session on another host (here, loopback): the
// extension's attach module, on plain Node, gets the collector's analysis as it changes, the
// remote process and its deadlock among it; a wrong token ends the attachment with a reason.
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { createServer, type AddressInfo } from 'node:net';
import { attach, checkEndpoint } from '../../extension/src/attach.js';
import type { SteppedReport } from '../../extension/src/shown.js';
import { startCollector } from '../../runtime-probe/src/collector.js';
import { Collect } from './collect-process.js';
import { runProgram } from './run-program.js';

const root = resolve(import.meta.dirname, '../..');
const philosophers = join(root, 'examples', 'dining-philosophers.ts');

describe('the editor attached to a collector', () => {
  const started: Collect[] = [];
  after(() => {
    for (const c of started) c.child.kill('SIGKILL');
  });

  test('shows the remote process and its deadlock, as the collector finds it', async () => {
    const c = new Collect(['--listen', '127.0.0.1:0']);
    started.push(c);
    const env = await c.env();
    const reports: SteppedReport[] = [];
    let ended: string | undefined;
    const attachment = attach(env.LOCKSCOPE_ENDPOINT!, env.LOCKSCOPE_TOKEN!, {
      onReport: (r) => reports.push(r),
      onClose: (reason) => (ended = reason),
      log: () => {},
    });
    try {
      await c.waitFor(/a viewer attached/);
      const program = await runProgram([philosophers], env);
      const deadline = Date.now() + 30_000;
      const found = (r: SteppedReport): boolean =>
        r.report.findings.some((f) => f.kind === 'deadlock') && r.state.processes.length === 1;
      while (!reports.some(found)) {
        assert.ok(
          Date.now() < deadline,
          `no report with the deadlock: ${reports.length} reports; the collector said:\n` +
            `${c.stderr}\nthe program said:\n${program.stderr}`,
        );
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(program.code, 13, 'the philosophers wait forever, as the example does');
      const last = reports.findLast(found)!;
      const deadlock = last.report.findings.find((f) => f.kind === 'deadlock')!;
      assert.ok(deadlock.sites.some((s) => s.file === philosophers && s.line === 34));
      assert.equal(ended, undefined);
    } finally {
      attachment.close();
    }
  });

  test('a wrong token ends the attachment with the reason', async () => {
    const c = new Collect(['--listen', '127.0.0.1:0']);
    started.push(c);
    const env = await c.env();
    const reason = await new Promise<string>((done) =>
      attach(env.LOCKSCOPE_ENDPOINT!, 'not the token', {
        onReport: () => assert.fail('a report without the token'),
        onClose: done,
        log: () => {},
      }),
    );
    assert.match(
      reason,
      /refused the connection: the TLS handshake failed, so the token \(LOCKSCOPE_TOKEN\) is not that/,
    );
    await c.waitFor(/connection refused: a connection did not present the right token/);
  });

  test('a host that accepts and never answers ends the attachment with the reason', async () => {
    // A plain TCP listener: the TLS handshake never completes, so no report ever comes.
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as AddressInfo;
    try {
      const reason = await new Promise<string>((done) =>
        attach(
          `tls://127.0.0.1:${port}`,
          'token',
          { onReport: () => assert.fail('a report from nowhere'), onClose: done, log: () => {} },
          { answerMs: 300 },
        ),
      );
      assert.match(reason, /no answer from tls:\/\/127\.0\.0\.1:\d+ within 0\.3 s/);
    } finally {
      silent.close();
    }
  });

  test('a collector that takes no viewers says so', async () => {
    // The collector `lockscope run` and the editor's own session start: no viewer handler.
    const collector = await startCollector({});
    try {
      const reason = await new Promise<string>((done) =>
        attach(collector.endpoint, collector.token, {
          onReport: () => assert.fail('a report from a collector without viewers'),
          onClose: done,
          log: () => {},
        }),
      );
      assert.match(
        reason,
        /the collector refused: a viewer tried to attach, and this collector takes none/,
      );
    } finally {
      await collector.close();
    }
  });

  test('an endpoint is checked as it is typed', () => {
    assert.equal(checkEndpoint('tls://build-host:7000'), undefined);
    assert.equal(checkEndpoint('/tmp/lockscope-x/collector.sock'), undefined);
    assert.match(checkEndpoint('tls://build-host')!, /is not HOST:PORT/);
    assert.match(checkEndpoint(' ')!, /give the endpoint/);
  });
});
