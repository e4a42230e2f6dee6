/**
 * The recorder: the hot path's single enqueue, and everything done off it.
 *
 * `record()` writes one event into preallocated typed arrays (timestamp, operation code, ids) and
 * a parallel array of flow objects; it allocates nothing and does no I/O. Registry messages,
 * encoding and delivery to sinks happen in `flush()`, which runs from `setImmediate` after the
 * current burst of work, or synchronously when the buffer is full (a microtask-only loop never
 * reaches `setImmediate`, so a full buffer is flushed in place rather than dropped). The buffer
 * holds flow objects rather than ids because an operation's flow is decided only when its
 * synchronous run ends (runs.ts), after its events were recorded and before they are flushed.
 */
import {
  CAPABILITIES,
  PROTOCOL_VERSION,
  type Message,
  type WireEvent,
  type Hello,
} from './protocol.js';
import {
  rt,
  shared,
  warnOnce,
  PROBE_VERSION,
  type Batch,
  type Flow,
  type ProbeConfig,
  type ResourceRec,
  type Sink,
  type SinkStats,
} from './runtime.js';
import { eventAt, makeBuffer, registries, STRIDE, writeEventsLine, type Buffer } from './batch.js';
import { ByteWriter } from './bytes.js';
import { listenToThreads } from './transports/thread.js';
import { drainIoThread, undeliveredWorkerEvents, waitForWorkers } from './transports/delivery.js';
import { clock } from './clock.js';

/** The real clock, captured at load (clock.ts), in a constant for the hot path. */
const perfNow = clock.now;

/**
 * Two buffers: `record()` writes into `active`; `flush()` swaps them before delivering, so that
 * events recorded while a sink runs (a subscriber may itself use a primitive) land in the other
 * buffer instead of the one being read.
 */
interface Ring {
  cap: number;
  active: Buffer;
  spare: Buffer;
  flushing: boolean;
  flushScheduled: boolean;
  /** The active buffer holds an event that should be delivered soon (see recordQuietly). */
  loud: boolean;
  /** Events recorded while a flush was delivering and the other buffer was full. */
  lost: number;
  /** Sinks attached while a flush was delivering; attached when it ends. */
  pendingSinks: Sink[];
  heartbeat: ReturnType<typeof setInterval> | undefined;
  /** On the main thread while it records: stops listening to the workers' batches. */
  threads: (() => void) | undefined;
}

const ring = shared<Ring>('ring', () => ({
  cap: rt.config.batchSize,
  active: makeBuffer(rt.config.batchSize),
  spare: makeBuffer(rt.config.batchSize),
  flushing: false,
  flushScheduled: false,
  loud: false,
  lost: 0,
  pendingSinks: [],
  heartbeat: undefined,
  threads: undefined,
}));

/** Records one operation event. The only thing the hot path does when a sink is attached. */
export function record(
  op: number,
  flow: Flow,
  res: ResourceRec | undefined,
  site: number,
  n: number,
  peer: number,
): void {
  if (append(op, flow, res, site, n, peer) < 0) return;
  ring.loud = true;
  if (!ring.flushScheduled) {
    ring.flushScheduled = true;
    clock.setImmediate(flush);
  }
}

/**
 * Records an event about resource `resId` that need not be delivered soon (its collection): it
 * schedules no flush of its own and leaves the heartbeat alone, and goes with the next batch the
 * program's own operations make, or the exit's. A garbage collection in an idle thread must not
 * make it post. The record is gone, so the event carries only the id, and registers nothing.
 */
export function recordQuietly(op: number, flow: Flow, resId: number): void {
  const i = append(op, flow, undefined, 0, 0, 0);
  if (i >= 0) ring.active.num[i * STRIDE + 2] = resId;
}

/**
 * Makes room for the next `events` events in one batch: flushes first if they would not fit. A
 * fail-fast request goes with its refusal, or with the `judging` event that says its judgement
 * comes later, so that the analysis, which confirms a wait at the end of its batch, never takes a
 * refused wait for a deadlock.
 */
export function keepTogether(events: number): void {
  if (rt.recording && ring.active.len + events > ring.cap && !ring.flushing) flush();
}

/** Writes one event into the active buffer and returns its index there, or -1 if it was lost. */
function append(
  op: number,
  flow: Flow,
  res: ResourceRec | undefined,
  site: number,
  n: number,
  peer: number,
): number {
  rt.produced++;
  let buf = ring.active;
  if (buf.len === ring.cap) {
    if (ring.flushing) {
      ring.lost++;
      return -1;
    }
    flush();
    buf = ring.active;
  }
  const i = buf.len;
  const o = i * STRIDE;
  const num = buf.num;
  num[o] = perfNow();
  num[o + 1] = op;
  num[o + 2] = res ? res.id : 0;
  num[o + 3] = site;
  num[o + 4] = n;
  num[o + 5] = peer;
  buf.flows[i] = flow;
  buf.resources[i] = res;
  buf.len = i + 1;
  return i;
}

/** Makes sure `flow` is registered with the next batch, although it may have no event in it. */
export function registerFlow(flow: Flow): void {
  if (rt.recording) ring.active.extraFlows.push(flow);
}

/**
 * A sink lost a batch, and with it registry messages that later events refer to: send every
 * registry again with the next batches. Receivers take a repeated registration as a no-op.
 */
export function registriesLost(): void {
  rt.sinkGeneration++;
}

export function now(): number {
  return clock.timeOrigin + perfNow();
}

function roundTs(ms: number): number {
  return Math.round(ms * 1e4) / 1e4;
}

const hooks = shared('flush-hooks', () => new Set<() => void>());

/** Where batches are encoded, kept from one to the next (flushes do not overlap). */
const encoding = new ByteWriter();

/** Runs `hook` at every flush, before the batch is delivered. */
export function onFlush(hook: () => void): void {
  hooks.add(hook);
}

function clear(buf: Buffer): void {
  buf.flows.fill(undefined, 0, buf.len);
  buf.resources.fill(undefined, 0, buf.len);
  buf.extraFlows.length = 0;
  buf.len = 0;
}

/**
 * Delivers everything buffered to the sinks. Safe to call at any time, from any build; a call
 * made while a flush is delivering (from a sink) returns at once, and the outer flush goes on.
 */
export function flush(): void {
  if (ring.flushing) return;
  ring.flushScheduled = false;
  for (const hook of hooks) hook();
  const buf = ring.active;
  if (buf.len === 0 && buf.extraFlows.length === 0) return;
  ring.active = ring.spare;
  ring.spare = buf;
  ring.loud = false;
  if (rt.sinks.length === 0) {
    clear(buf);
    return;
  }
  ring.flushing = true;
  try {
    deliver(buf);
  } catch (err) {
    // The probe's own failure must never reach the program; the batch is lost and counted.
    ring.lost += buf.len;
    warnOnce('flush-failed', `could not deliver a batch of events: ${String(err)}`);
  } finally {
    clear(buf);
    ring.flushing = false;
    for (const sink of ring.pendingSinks.splice(0)) attachSink(sink);
  }
  if (ring.active.len > 0 && !ring.flushScheduled) {
    ring.flushScheduled = true;
    clock.setImmediate(flush);
  }
}

/** Delivers a batch a worker forwarded (see transports/thread.ts) to this thread's sinks. */
function deliverForwarded(batch: Batch): void {
  for (const sink of rt.sinks.slice()) {
    if (!sink.takesForwarded) continue;
    try {
      sink.write(batch);
    } catch (err) {
      warnOnce(`sink-${sink.kind}`, `the ${sink.kind} sink failed: ${String(err)}`);
    }
  }
}

/**
 * A batch's origin: the whole millisecond of its first event. Its events' times (`us`) are then
 * counted from it, in a few digits rather than the seven or more since the thread began, which
 * is less to write, send and read for every event. `shift` is the origin on the thread's own
 * clock (`perfNow`); events are appended in time order, so no time in the batch is before it.
 */
function batchOrigin(buf: Buffer): { origin: number; shift: number } {
  if (buf.len === 0) return { origin: Math.floor(clock.timeOrigin), shift: 0 };
  const origin = Math.floor(clock.timeOrigin + buf.num[0]!);
  return { origin, shift: origin - clock.timeOrigin };
}

function deliver(buf: Buffer): void {
  const { origin, shift } = batchOrigin(buf);
  const head = registries(buf);
  const len = buf.len;
  let messages: Message[] | undefined;
  let bytes: Uint8Array | undefined;
  const batch: Batch = {
    eventCount: len,
    messages() {
      if (!messages) {
        const events: WireEvent[] = new Array<WireEvent>(len);
        for (let i = 0; i < len; i++) events[i] = eventAt(buf, i, shift);
        messages = len ? head.concat({ t: 'events', thread: rt.threadId, origin, events }) : head;
      }
      return messages;
    },
    bytes() {
      if (bytes === undefined) {
        encoding.reset();
        for (const m of head) encoding.text(JSON.stringify(m) + '\n');
        if (len) writeEventsLine(buf, origin, shift, encoding);
        bytes = encoding.view();
      }
      return bytes;
    },
  };
  // A snapshot: a sink may detach itself (or attach another) while it is called.
  for (const sink of rt.sinks.slice()) {
    try {
      sink.write(batch);
    } catch (err) {
      warnOnce(`sink-${sink.kind}`, `the ${sink.kind} sink failed: ${String(err)}`);
    }
  }
}

/** The longest script path a hello carries: the whole hello must stay well under 16 KiB. */
const MAX_SCRIPT = 4096;

export function helloMessage(token?: string): Hello {
  const hello: Hello = {
    t: 'hello',
    protocol: PROTOCOL_VERSION,
    probe: PROBE_VERSION,
    capabilities: [...CAPABILITIES],
    pid: process.pid,
    ppid: process.ppid,
    title: process.title,
    thread: rt.threadId,
    ts: roundTs(rt.startTs),
  };
  // A script path is sent as it is; `-e` code and the REPL have none.
  const script = process.argv[1];
  if (typeof script === 'string' && script.length > 0 && script.length <= MAX_SCRIPT) {
    hello.script = script;
  }
  if (token !== undefined) hello.token = token;
  return hello;
}

function controlAll(make: (s: SinkStats) => Message): void {
  for (const sink of rt.sinks) {
    try {
      sink.control(make(sink.stats()));
    } catch (err) {
      warnOnce(`sink-${sink.kind}`, `the ${sink.kind} sink failed: ${String(err)}`);
    }
  }
}

/** A heartbeat: what this thread produced, and what the sink that sends it has dropped. */
export function heartbeatMessage(dropped: number): Message {
  return { t: 'heartbeat', ts: roundTs(now()), produced: rt.produced, dropped };
}

function heartbeat(): void {
  if (ring.loud) flush();
  controlAll((s) => heartbeatMessage(s.dropped));
}

/**
 * `beforeExit` fires when the event loop has nothing left to run: the program is finishing, or
 * every task is blocked on promises that nothing can settle (a silent deadlock). The analysis
 * cannot see timers or I/O, so the probe says so with an `idle` message. Delivering it schedules
 * I/O, after which `beforeExit` fires again; the produced counter tells the two apart.
 */
function onBeforeExit(): void {
  if (waitForWorkers()) return;
  if (rt.sinks.length === 0 || rt.lastIdleProduced === rt.produced) return;
  rt.lastIdleProduced = rt.produced;
  flush();
  const ts = roundTs(now());
  controlAll(() => ({ t: 'idle', ts }));
}

function onExit(code: number): void {
  // Node 20 passes 0 to exit handlers for an ES module left waiting on a top-level await, but
  // has already set process.exitCode to the 13 it exits with.
  const exitCode = typeof process.exitCode === 'number' && code === 0 ? process.exitCode : code;
  flush();
  const ts = roundTs(now());
  // Workers' batches that never reached the main thread are lost for the sinks it feeds them
  // to; the ones the I/O thread has not written, for a collector's. The I/O thread goes first,
  // so that a collector gets them before the end.
  const ioLost = drainIoThread();
  const lost = undeliveredWorkerEvents();
  for (const sink of rt.sinks) {
    const s = sink.stats();
    const dropped = s.dropped + (sink.takesForwarded ? lost : ioLost);
    try {
      sink.close({ t: 'end', ts, exitCode, produced: rt.produced + lost, dropped });
    } catch {
      // Exit handlers must not throw; the sink has already counted what it could not deliver.
    }
  }
}

function installLifecycle(): void {
  if (rt.lifecycleInstalled) return;
  rt.lifecycleInstalled = true;
  process.on('beforeExit', onBeforeExit);
  process.on('exit', onExit);
}

function startHeartbeat(): void {
  if (ring.heartbeat || rt.config.heartbeatMs <= 0) return;
  ring.heartbeat = clock.setInterval(heartbeat, rt.config.heartbeatMs);
  ring.heartbeat.unref();
}

/** Applies a new configuration: the buffers and the heartbeat follow their settings. */
export function applyConfig(next: ProbeConfig): void {
  const prev = rt.config;
  rt.config = next;
  if (next.batchSize !== prev.batchSize && !ring.flushing) {
    flush();
    ring.cap = next.batchSize;
    ring.active = makeBuffer(next.batchSize);
    ring.spare = makeBuffer(next.batchSize);
  }
  if (next.heartbeatMs !== prev.heartbeatMs && ring.heartbeat) {
    clock.clearInterval(ring.heartbeat);
    ring.heartbeat = undefined;
    startHeartbeat();
  }
}

/** A sink retired (see `Sink.retired`): recording goes on only while one can still deliver. */
export function sinkRetired(): void {
  rt.recording = rt.sinks.some((s) => !s.retired);
}

/** Attaches a sink: from now on operations are recorded and delivered to it. */
export function attachSink(sink: Sink): () => void {
  if (ring.flushing) {
    ring.pendingSinks.push(sink);
    return () => detachSink(sink);
  }
  flush();
  rt.sinks.push(sink);
  rt.sinkGeneration++;
  sinkRetired();
  installLifecycle();
  startHeartbeat();
  if (rt.threadId === 0 && !ring.threads) ring.threads = listenToThreads(deliverForwarded);
  return () => detachSink(sink);
}

export function detachSink(sink: Sink): void {
  const i = rt.sinks.indexOf(sink);
  if (i < 0) return;
  flush();
  rt.sinks.splice(i, 1);
  rt.recording = rt.sinks.length > 0;
  if (!rt.recording && ring.heartbeat) {
    clock.clearInterval(ring.heartbeat);
    ring.heartbeat = undefined;
  }
  if (!rt.recording && ring.threads) {
    ring.threads();
    ring.threads = undefined;
  }
}

/** What the probe has recorded and delivered, from `stats()`. */
export interface ProbeStats {
  /** Events recorded since the process started. */
  produced: number;
  /** Events recorded but not yet flushed to the sinks. */
  buffered: number;
  /**
   * Events the recorder could not take: recorded by a sink while it was being called, beyond a
   * whole batch, or in a batch that failed to encode. Usually 0.
   */
  lost: number;
  /** Of the transport set up from the environment (socket, else file), or the first sink. */
  sent: number;
  /** Events that sink dropped (a collector too far behind, or gone). */
  dropped: number;
  /** Events that sink has taken and not yet written. */
  inFlight: number;
  /** Each sink's own counts. */
  sinks: SinkStats[];
}

export function stats(): ProbeStats {
  const sinks = rt.sinks.map((s) => s.stats());
  const primary =
    sinks.find((s) => s.kind === 'socket') ?? sinks.find((s) => s.kind === 'file') ?? sinks[0];
  return {
    produced: rt.produced,
    buffered: ring.active.len,
    lost: ring.lost,
    sent: primary?.sent ?? 0,
    dropped: primary?.dropped ?? 0,
    inFlight: primary?.inFlight ?? 0,
    sinks,
  };
}
