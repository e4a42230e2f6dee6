/**
 * Collector ingest: how many events per second the receiving side decodes and validates, fed the
 * way a socket feeds it (64 KiB chunks of JSON Lines as the probe writes them), alone and with
 * the analysis of every message, as `lockscope run` and the extension's sessions do.
 */
import { LineDecoder, StreamSession } from '../runtime-probe/src/collector.js';
import { Analyzer } from '../runtime-probe/src/analysis/engine.js';

export interface IngestResult {
  eventsPerSec: number;
  heapGrowthMb: number;
}

function makeStream(events: number, batch: number): string {
  const lines: string[] = [
    JSON.stringify({
      t: 'hello',
      protocol: 1,
      probe: 'bench',
      capabilities: [],
      pid: 1,
      title: 'bench',
      thread: 0,
      ts: 1.7e12,
    }),
    JSON.stringify({ t: 'task', id: 1, name: 'main', kind: 'main', thread: 0 }),
    JSON.stringify({ t: 'resource', id: 2, kind: 'mutex', name: 'm', class: 'm' }),
    JSON.stringify({ t: 'site', id: 3, file: '/app/x.ts', line: 1, column: 1 }),
  ];
  let us = 0;
  for (let done = 0; done < events; done += batch) {
    const evs: string[] = [];
    for (let i = 0; i < batch; i++) {
      us += 3;
      const op = i % 2 ? 'released' : 'acquired';
      evs.push(`{"us":${us},"op":"${op}","task":1,"res":2,"site":3}`);
    }
    lines.push(`{"t":"events","thread":0,"origin":1.7e12,"events":[${evs.join(',')}]}`);
  }
  return lines.join('\n') + '\n';
}

/** With `analyze`, every message the session accepts also goes to an Analyzer. */
export function measureCollectorIngest(events: number, analyze = false): IngestResult {
  const text = makeStream(events, 8192);
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += 65536) chunks.push(text.slice(i, i + 65536));
  let best = Infinity;
  let heapGrowth = 0;
  for (let round = 0; round < 3; round++) {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = process.hrtime.bigint();
    const decoder = new LineDecoder();
    const session = new StreamSession(undefined);
    const analyzer = analyze ? new Analyzer() : undefined;
    for (const chunk of chunks) {
      for (const line of decoder.push(chunk)) {
        const m = session.accept(line);
        if (m && analyzer) analyzer.accept(session, m);
      }
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (session.counters.events !== Math.ceil(events / 8192) * 8192) {
      throw new Error(`ingest lost events: ${session.counters.events}`);
    }
    best = Math.min(best, s);
    gc?.();
    heapGrowth = Math.max(heapGrowth, (process.memoryUsage().heapUsed - heap0) / 2 ** 20);
  }
  return { eventsPerSec: (Math.ceil(events / 8192) * 8192) / best, heapGrowthMb: heapGrowth };
}
