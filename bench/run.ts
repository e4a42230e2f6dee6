/**
 * `npm run bench`: measures the probe against baselines measured in the same run, and writes
 * bench/results.json. Ratios are ours / baseline; the bars are the design brief's.
 *
 * Every mutex measurement runs in a fresh process (see mutex-child.ts); the kinds are interleaved
 * over several passes and the median is kept, so a noisy moment hits all kinds alike.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import { startCollector } from '../runtime-probe/src/collector.js';
import { measureCollectorIngest } from './collector-ingest.js';
import { measureSharedMutex } from './shared-mutex.js';
import { measureAnalysisThroughput, measureCycleLatency } from './analysis.js';
import { measureExtensionBlock } from './extension-load.js';
import { measureWebview } from './browser.js';

interface Sample {
  nsPerOp: number;
  produced: number;
  dropped: number;
}

const ITERATIONS = 200_000;
const PASSES = 3;

const run = promisify(execFile);

/** Runs one measurement process; asynchronously, so this process's collector keeps reading. */
async function child(kind: string, env: Record<string, string>): Promise<Sample> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', 'bench/mutex-child.ts', kind, String(ITERATIONS), '5'],
    { env: { ...process.env, ...env }, encoding: 'utf8' },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as Sample;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const collector = await startCollector({});
const sinkEnv = collector.env();

const configs: Record<string, { kind: string; env: Record<string, string> }> = {
  asyncMutex: { kind: 'async-mutex', env: {} },
  hand: { kind: 'hand', env: {} },
  nosink: { kind: 'lockscope', env: {} },
  recordingNoStack: { kind: 'lockscope', env: { ...sinkEnv, LOCKSCOPE_STACKS: 'off' } },
  recordingStacks: { kind: 'lockscope', env: { ...sinkEnv } },
};
const samples: Record<string, Sample[]> = {};
for (let pass = 0; pass < PASSES; pass++) {
  for (const [key, c] of Object.entries(configs)) {
    (samples[key] ??= []).push(await child(c.kind, c.env));
  }
}
await collector.close();

const ns = (key: string): number => median(samples[key]!.map((s) => s.nsPerOp));
const base = ns('asyncMutex');
const eventsPerOp = 2; // acquired + released
const ingest = measureCollectorIngest(1_000_000);
const shared = await measureSharedMutex();
const analysisEventsPerSec = measureAnalysisThroughput();
const latency = {
  k1: measureCycleLatency(1_000),
  k10: measureCycleLatency(10_000),
  k100: measureCycleLatency(100_000),
};
const extensionLoad = await measureExtensionBlock();
const webview = await measureWebview();

const results = {
  measuredAt: new Date().toISOString(),
  node: process.version,
  iterations: ITERATIONS,
  async_mutex_ns_per_op: round(base),
  hand_written_mutex_ns_per_op: round(ns('hand')),
  hand_written_mutex_ratio: round(ns('hand') / base),
  mutex_uncontended_nosink_ns_per_op: round(ns('nosink')),
  mutex_uncontended_nosink_ratio: round(ns('nosink') / base),
  mutex_uncontended_recording_nostack_ratio: round(ns('recordingNoStack') / base),
  mutex_uncontended_recording_stacks_ratio: round(ns('recordingStacks') / base),
  ns_per_event_nostack: round((ns('recordingNoStack') - ns('nosink')) / eventsPerOp),
  ns_per_event_stacks: round((ns('recordingStacks') - ns('nosink')) / eventsPerOp),
  recording_dropped_events: Math.max(
    ...samples.recordingNoStack!.map((s) => s.dropped),
    ...samples.recordingStacks!.map((s) => s.dropped),
  ),
  collector_events_per_sec: Math.round(ingest.eventsPerSec),
  collector_heap_growth_mb: round(ingest.heapGrowthMb),
  shared_mutex_uncontended_ns_per_op: round(shared.lockscopeUncontendedNs),
  minimal_atomics_mutex_uncontended_ns_per_op: round(shared.minimalUncontendedNs),
  shared_mutex_uncontended_ratio: round(shared.uncontendedRatio),
  shared_mutex_contended_2threads_ratio: round(shared.contended2Ratio),
  analysis_events_per_sec: Math.round(analysisEventsPerSec),
  cycle_check_latency_us_1k: round(latency.k1),
  cycle_check_latency_us_10k: round(latency.k10),
  cycle_check_latency_us_100k: round(latency.k100),
  cycle_check_latency_100k_over_1k: round(latency.k100 / latency.k1),
  extension_max_block_ms: round(extensionLoad.maxBlockMs),
  extension_load_events: extensionLoad.events,
  graph_1000_nodes_fps: round(webview.graph1000Fps),
  stream_10k_events_per_sec_dropped_frames_pct: round(webview.stream10kDroppedFramesPct),
  timeline_1m_events_scroll_ms_per_frame: round(webview.timeline1mScrollMsPerFrame),
};

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

const bars: [keyof typeof results, '<=' | '>=', number][] = [
  ['mutex_uncontended_nosink_ratio', '<=', 0.5],
  ['mutex_uncontended_recording_nostack_ratio', '<=', 1.0],
  ['mutex_uncontended_recording_stacks_ratio', '<=', 10],
  ['collector_events_per_sec', '>=', 1_000_000],
  ['shared_mutex_uncontended_ratio', '<=', 2],
  ['shared_mutex_contended_2threads_ratio', '<=', 2],
  ['analysis_events_per_sec', '>=', 2_000_000],
  ['cycle_check_latency_us_1k', '<=', 50_000],
  ['cycle_check_latency_us_10k', '<=', 50_000],
  ['cycle_check_latency_us_100k', '<=', 50_000],
  ['cycle_check_latency_100k_over_1k', '<=', 5],
  ['extension_max_block_ms', '<=', 50],
  ['graph_1000_nodes_fps', '>=', 30],
  ['stream_10k_events_per_sec_dropped_frames_pct', '<=', 5],
  ['timeline_1m_events_scroll_ms_per_frame', '<=', 33],
];

writeFileSync('bench/results.json', JSON.stringify(results, null, 2) + '\n');
for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(44)} ${String(v)}`);
console.log('\nbars:');
for (const [key, op, bar] of bars) {
  const v = results[key] as number;
  const ok = op === '<=' ? v <= bar : v >= bar;
  console.log(`  ${ok ? 'meets ' : 'MISSES'} ${key} ${op} ${bar} (measured ${v})`);
}
console.log('\nwrote bench/results.json');
