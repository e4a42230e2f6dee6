/**
 * A peer on the same machine without the token cannot exhaust a receiving end: 100 connections
 * sending garbage and huge lines, and one that sends nothing, against the CLI's collector and the
 * extension's session (on plain Node), while a real program reports to it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { lastJson, NODE, runProgram } from './run-program.js';

const CONNECTIONS = 100;
const RSS_LIMIT = 200 * 2 ** 20;

/** Sends `chunk` again and again until the peer closes the connection (or 64 MiB went). */
function flood(endpoint: string, chunk: string): Promise<void> {
  return new Promise((done) => {
    const socket = connect(endpoint);
    let sent = 0;
    const more = (): void => {
      while (sent < 64 * 2 ** 20 && !socket.destroyed) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', more);
      }
      socket.end();
    };
    socket.on('connect', more);
    socket.on('error', () => {});
    socket.on('close', () => done());
  });
}

for (const mode of ['collector', 'session'] as const) {
  describe(`the ${mode === 'collector' ? "CLI's collector" : "extension's session"}`, () => {
    test('stays small under 100 connections without a token, and a program still reports', async (t) => {
      const fixture = resolve(import.meta.dirname, '../fixtures/collector-attack.ts');
      const receiver = spawn(NODE, ['--import', 'tsx', fixture, mode], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      const lines = createInterface({ input: receiver.stdout });
      const next = (): Promise<string> =>
        new Promise((done) => lines.once('line', (l: string) => done(l)));
      const env = JSON.parse(await next()) as Record<string, string>;
      const endpoint = env.LOCKSCOPE_ENDPOINT!;

      // One connection that says nothing is closed after the hello timeout.
      const idle: Socket = connect(endpoint);
      idle.on('error', () => {});
      // Read what the receiver says, so that its closing is seen.
      idle.resume();
      const idleClosed = new Promise<void>((done) => idle.on('close', () => done()));
      const garbage = 'not a hello\n'.repeat(20_000);
      const huge = 'x'.repeat(256 * 1024);
      const attacks = Array.from({ length: CONNECTIONS }, (_, i) =>
        flood(endpoint, i % 2 ? garbage : huge),
      );
      const program = runProgram(['test/fixtures/workload.ts', '20000'], env);
      await Promise.all(attacks);
      await idleClosed;
      const r = await program;
      assert.equal(r.code, 0, r.stderr);
      const { produced } = lastJson<{ produced: number }>(r.stdout);

      const exited = new Promise((done) => receiver.once('exit', done));
      receiver.stdin.end('done\n');
      const result = JSON.parse(await next()) as {
        events: number;
        refused: Record<string, number>;
        maxRss: number;
      };
      await exited;
      t.diagnostic(
        `peak RSS ${(result.maxRss / 2 ** 20).toFixed(0)} MB; refused ${JSON.stringify(result.refused)}`,
      );
      assert.equal(result.events, produced, 'every event of the program arrived');
      assert.ok(result.maxRss < RSS_LIMIT, `peak RSS ${(result.maxRss / 2 ** 20).toFixed(0)} MB`);
      const refusedCount = Object.values(result.refused).reduce((a, b) => a + b, 0);
      assert.equal(refusedCount, CONNECTIONS + 1);
      assert.equal(result.refused['hello-timeout'], 1);
    });
  });
}
