/**
 * Every event a worker produced reaches the main thread's sinks before `join()` resolves, on every
 * exit path (normal end, process.exit, an uncaught throw, terminate()), even when the worker's
 * last batch arrives after its `exit` event. The program ends as soon as it has joined its
 * workers, so a batch still on its way would be missing from the trace. Looped: 20 rounds in
 * `npm test`, 200 in `npm run test:long`.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { loops } from '../loops.js';
import { bundleFixture, lastJson, readTrace, runProgram } from './run-program.js';

const build = fileURLToPath(new URL('../.build', import.meta.url));
const WORKER = bundleFixture('delivery-worker');

const ROUNDS = loops(20, 200);
const PATHS = ['end', 'exit', 'throw', 'terminate'];

/** What one round got wrong, or undefined. */
async function round(i: number): Promise<string | undefined> {
  const trace = join(build, `delivery-${process.pid}-${i}.jsonl`);
  try {
    const r = await runProgram(['test/fixtures/delivery.ts', WORKER], { LOCKSCOPE_TRACE: trace });
    if (r.code !== 0) return `exit ${r.code}: ${r.stderr}`;
    const { codes } = lastJson<{ codes: number[] }>(r.stdout);
    if (codes.length !== PATHS.length) return `joined ${codes.length} workers`;
    const messages = readTrace(trace);
    const names = new Set(messages.flatMap((m) => (m.t === 'resource' ? [m.name] : [])));
    const missing = PATHS.flatMap((path, w) => (names.has(`w${w}-last`) ? [] : [path]));
    if (missing.length)
      return `the last events of the workers ending by ${missing.join(', ')} are missing`;
    const events = messages.reduce((n, m) => n + (m.t === 'events' ? m.events.length : 0), 0);
    const end = messages.find((m) => m.t === 'end');
    if (!end || end.t !== 'end') return 'no end message';
    if (end.dropped !== 0) return `${end.dropped} events dropped`;
    if (end.produced !== events) return `${end.produced} events produced, ${events} in the trace`;
    return undefined;
  } finally {
    rmSync(trace, { force: true });
  }
}

describe('worker event delivery', () => {
  it(`delivers every worker's events before join() resolves, on every exit path (${ROUNDS} rounds)`, async () => {
    const failures: string[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const wrong = await round(i);
      if (wrong) failures.push(`round ${i + 1}: ${wrong}`);
    }
    assert.deepEqual(failures, [], `${failures.length} of ${ROUNDS} rounds lost events`);
  });
});
