/**
 * Traces of any size: `lockscope report` (text, --json, --html) and `lockscope events` read a
 * huge trace in constant memory. 200 MB under `npm test`, 2 GB under `npm run test:long`; the
 * trace is generated (huge-trace.ts) and deleted after.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { TRACE_HEAP_FLAGS } from '../../runtime-probe/src/trace-heap.js';
import { writeHugeTrace, type HugeTrace } from '../huge-trace.js';
import { LONG } from '../loops.js';
import { NODE } from './run-program.js';

const PEAK_LIMIT = 300 * 2 ** 20;
const dir = mkdtempSync(join(tmpdir(), 'lockscope-huge-'));
const trace = join(dir, 'huge.jsonl');
let made: HugeTrace;
after(() => rmSync(dir, { recursive: true, force: true }));

interface Measured {
  code: number | null;
  /** The last kilobytes of standard output (the whole of it may be gigabytes). */
  tail: string;
  stderr: string;
  maxRss: number;
}

/** Runs the CLI on the trace, keeping only the tail of its output, and measures its peak RSS. */
function measure(args: string[]): Promise<Measured> {
  const rssFile = join(dir, 'maxrss');
  const wrapper = resolve(import.meta.dirname, '../fixtures/max-rss.cjs');
  return new Promise((done, fail) => {
    const child = spawn(NODE, [...TRACE_HEAP_FLAGS, wrapper, ...args], {
      env: { ...process.env, NO_COLOR: '1', LOCKSCOPE_MAXRSS_FILE: rssFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (tail = (tail + s).slice(-4096)));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.once('error', fail);
    child.once('close', (code) =>
      done({ code, tail, stderr, maxRss: Number(readFileSync(rssFile, 'utf8')) }),
    );
  });
}

/** The peak, checked against the limit and shown in the test's output. */
function checkPeak(t: TestContext, r: Measured): void {
  const mb = (r.maxRss / 2 ** 20).toFixed(0);
  t.diagnostic(`peak RSS ${mb} MB`);
  assert.ok(r.maxRss < PEAK_LIMIT, `peak RSS ${mb} MB`);
}

describe(`a ${LONG ? '2 GB' : '200 MB'} trace`, () => {
  before(() => {
    made = writeHugeTrace(trace, { bytes: LONG ? 2 * 2 ** 30 : 200 * 2 ** 20 });
  });
  after(() => rmSync(trace, { force: true }));

  test('lockscope report reads it in constant memory', async (t) => {
    const r = await measure(['report', trace]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.tail, /no findings/);
    checkPeak(t, r);
  });

  test('lockscope report --json streams the report', async (t) => {
    const r = await measure(['report', '--json', trace]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.tail.endsWith('\n  ]\n}\n'), 'the report ends with its list of resources');
    checkPeak(t, r);
  });

  test('lockscope report --html writes a page with a bounded time line', async (t) => {
    const html = join(dir, 'report.html');
    const r = await measure(['report', '--html', html, trace]);
    assert.equal(r.code, 0, r.stderr);
    const page = readFileSync(html, 'utf8');
    const data = /<script type="application\/json" id="lockscope-report">(.*?)<\/script>/s.exec(
      page,
    );
    assert.ok(data, 'the page carries the report');
    const report = JSON.parse(data[1]!) as { timeline: { intervals: unknown[]; omitted: number } };
    assert.ok(report.timeline.intervals.length <= 50_000);
    assert.ok(report.timeline.omitted > 0, 'the intervals left out are counted');
    assert.ok(statSync(html).size < 64 * 2 ** 20);
    checkPeak(t, r);
  });

  test('lockscope events streams every event', async (t) => {
    const r = await measure(['events', trace]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.tail, new RegExp(`${made.events} events in ${made.messages} messages\\n$`));
    checkPeak(t, r);
  });
});

describe('a million short-lived mutexes', () => {
  const file = join(dir, 'million.jsonl');
  let million: HugeTrace;
  before(() => {
    million = writeHugeTrace(file, { resources: 1_000_000 });
  });
  after(() => rmSync(file, { force: true }));

  test('the analysis forgets them: it keeps under 100 MB', (t) => {
    const fixture = resolve(import.meta.dirname, '../fixtures/analysis-heap.ts');
    const out = execFileSync(NODE, ['--expose-gc', '--import', 'tsx', fixture, file], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    const { retainedMb, events } = JSON.parse(out) as { retainedMb: number; events: number };
    t.diagnostic(`retained ${retainedMb.toFixed(1)} MB`);
    assert.equal(events, million.events);
    assert.ok(retainedMb < 100, `retained ${retainedMb.toFixed(1)} MB`);
  });

  test('lockscope report of their trace stays under 300 MB', async (t) => {
    const r = await measure(['report', file]);
    assert.equal(r.code, 0, r.stderr);
    checkPeak(t, r);
  });
});
