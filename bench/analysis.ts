/**
 * The analysis engine's throughput and the latency from the event that closes a cycle to the
 * finding, with many live tasks and resources around. Events are fed as decoded messages, so
 * this measures the engine alone; decoding is measured by collector-ingest.ts.
 */
import { performance } from 'node:perf_hooks';
import { Analyzer } from '../runtime-probe/src/analysis/engine.js';
import type { Message, WireEvent } from '../runtime-probe/src/protocol.js';

const ORIGIN = 1_700_000_000_000;
const stream = {};

function hello(a: Analyzer): void {
  a.accept(stream, {
    t: 'hello',
    protocol: 1,
    probe: 'bench',
    capabilities: [],
    pid: 1,
    title: 'bench',
    thread: 0,
    ts: ORIGIN,
  });
}

function batch(events: WireEvent[]): Message {
  return { t: 'events', thread: 0, origin: ORIGIN, events };
}

/**
 * A realistic mix: 64 tasks over 32 mutexes, each task taking one lock and sometimes a second
 * one in a fixed order, with queues forming on the busy ones.
 */
export function measureAnalysisThroughput(total = 4_000_000): number {
  const a = new Analyzer({ maxIntervals: 100_000 });
  hello(a);
  const TASKS = 64;
  const LOCKS = 32;
  for (let i = 1; i <= TASKS; i++)
    a.accept(stream, { t: 'task', id: i, name: `t${i}`, kind: 'spawn', thread: 0 });
  for (let i = 1; i <= LOCKS; i++) {
    a.accept(stream, { t: 'resource', id: 1000 + i, kind: 'mutex', name: `m${i}`, class: `c${i}` });
  }
  a.accept(stream, { t: 'site', id: 1, file: '/app/x.ts', line: 1, column: 1 });
  // One round: every task takes its lock (one in four also a second), then all release.
  const round: WireEvent[] = [];
  let us = 0;
  for (let t = 1; t <= TASKS; t++) {
    const lock = 1000 + 1 + (t % LOCKS);
    round.push({ us: us++, op: 'acquired', task: t, res: lock, site: 1 });
    if (t % 4 === 0) {
      const second = 1000 + LOCKS; // always last: a consistent order
      if (second !== lock) {
        round.push({ us: us++, op: 'acquired', task: t, res: second, site: 1 });
        round.push({ us: us++, op: 'released', task: t, res: second });
      }
    }
    round.push({ us: us++, op: 'released', task: t, res: lock });
  }
  const chunks: Message[] = [];
  for (let i = 0; i < round.length; i += 512) chunks.push(batch(round.slice(i, i + 512)));
  let fed = 0;
  // Warm up, then measure.
  for (let i = 0; i < 200; i++) for (const c of chunks) a.accept(stream, c);
  const t0 = performance.now();
  while (fed < total) {
    for (const c of chunks) a.accept(stream, c);
    fed += round.length;
  }
  const seconds = (performance.now() - t0) / 1000;
  if (a.findings.length) throw new Error('the throughput workload must be clean');
  return fed / seconds;
}

/**
 * With `n` live tasks and `n` live resources (each task holds one; nine in ten wait in chains
 * of ten), the microseconds from feeding the request that closes a two-task cycle to the
 * finding, as the median of many fresh cycles.
 */
export function measureCycleLatency(n: number, repeats = 301): number {
  const a = new Analyzer({ maxIntervals: 0 });
  hello(a);
  const events: WireEvent[] = [];
  for (let i = 1; i <= n; i++) events.push({ us: 0, op: 'acquired', task: i, res: n + i });
  for (let i = 1; i <= n; i++) {
    if (i % 10 !== 0) events.push({ us: 1, op: 'request', task: i, res: n + i + 1 });
  }
  for (let i = 0; i < events.length; i += 4096) a.accept(stream, batch(events.slice(i, i + 4096)));
  let found = 0;
  a.onFinding = () => found++;
  const times: number[] = [];
  let next = 10 * n;
  for (let r = 0; r < repeats; r++) {
    const [x, y, rx, ry] = [next++, next++, next++, next++];
    a.accept(
      stream,
      batch([
        { us: 2, op: 'acquired', task: x, res: rx },
        { us: 2, op: 'acquired', task: y, res: ry },
        { us: 3, op: 'request', task: x, res: ry },
      ]),
    );
    const closing = batch([{ us: 4, op: 'request', task: y, res: rx }]);
    const t0 = performance.now();
    a.accept(stream, closing);
    times.push((performance.now() - t0) * 1000);
  }
  if (found !== repeats) throw new Error(`expected ${repeats} deadlocks, found ${found}`);
  times.sort((p, q) => p - q);
  return times[Math.floor(times.length / 2)]!;
}

if (process.argv[1]?.endsWith('analysis.ts')) {
  console.log({
    eventsPerSec: Math.round(measureAnalysisThroughput()),
    latency1k: measureCycleLatency(1000),
    latency10k: measureCycleLatency(10_000),
    latency100k: measureCycleLatency(100_000),
  });
}
