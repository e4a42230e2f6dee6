/**
 * The recorder: the hot path's single enqueue, and everything done off it.
 *
 * `record()` writes one event into preallocated typed arrays (timestamp, operation code, ids) and
 * a parallel array of flow objects; it allocates nothing and does no I/O. Registry messages,
 * encoding and delivery to sinks happen in `flush()`, which runs from `setImmediate` after the
 * current burst of work, or synchronously when the buffer is full (a microtask-only loop never
 * reaches `setImmediate`, so a full buffer is flushed in place rather than dropped). The buffer
 * holds flow objects rather than ids because the identity heuristic may rename a flow after its
 * first events were recorded but before they are flushed.
 */
import {
  OPS,
  MISUSE_CODES,
  type Message,
  type WireEvent,
  type Hello,
  type SiteMessage,
} from './protocol.js';
import {
  rt,
  shared,
  warnOnce,
  PROBE_VERSION,
  type Batch,
  type Flow,
  type ResourceRec,
  type Sink,
  type SinkStats,
} from './runtime.js';
import { resolved } from './identity.js';
import { registerSite, siteOf } from './sites.js';

const STRIDE = 6; // ts, op, res, site, n, peer

interface Ring {
  cap: number;
  len: number;
  num: Float64Array;
  flows: (Flow | undefined)[];
  resources: (ResourceRec | undefined)[];
  flushScheduled: boolean;
  heartbeat: ReturnType<typeof setInterval> | undefined;
}

function makeRing(cap: number): Ring {
  return {
    cap,
    len: 0,
    num: new Float64Array(cap * STRIDE),
    flows: new Array<Flow | undefined>(cap).fill(undefined),
    resources: new Array<ResourceRec | undefined>(cap).fill(undefined),
    flushScheduled: false,
    heartbeat: undefined,
  };
}

const ring = shared<Ring>('ring', () => makeRing(rt.config.batchSize));

/** Records one operation event. The only thing the hot path does when a sink is attached. */
export function record(
  op: number,
  flow: Flow,
  res: ResourceRec | undefined,
  site: number,
  n: number,
  peer: number,
): void {
  rt.produced++;
  let i = ring.len;
  if (i === ring.cap) {
    flush();
    i = 0;
  }
  const o = i * STRIDE;
  const num = ring.num;
  num[o] = performance.now();
  num[o + 1] = op;
  num[o + 2] = res ? res.id : 0;
  num[o + 3] = site;
  num[o + 4] = n;
  num[o + 5] = peer;
  ring.flows[i] = flow;
  ring.resources[i] = res;
  ring.len = i + 1;
  if (!ring.flushScheduled) {
    ring.flushScheduled = true;
    setImmediate(flush);
  }
}

export function now(): number {
  return performance.timeOrigin + performance.now();
}

function roundTs(ms: number): number {
  return Math.round(ms * 1e4) / 1e4;
}

function taskMessage(flow: Flow): Message {
  const msg: Message = {
    t: 'task',
    id: flow.id,
    name: flow.name,
    kind: flow.kind,
    thread: rt.threadId,
  };
  if (flow.parent !== undefined) msg.parent = flow.parent;
  return msg;
}

function resourceMessage(res: ResourceRec): Message {
  const msg: Message = {
    t: 'resource',
    id: res.id,
    kind: res.kind,
    name: res.name,
    class: res.cls,
  };
  if (res.site) msg.site = res.site;
  if (res.capacity !== undefined) msg.capacity = res.capacity;
  if (res.policy !== undefined) msg.policy = res.policy;
  return msg;
}

/** Collects the registry messages the current sinks have not seen for the buffered events. */
function registries(len: number): Message[] {
  const gen = rt.sinkGeneration;
  const out: Message[] = [];
  const sites: SiteMessage[] = [];
  const num = ring.num;
  for (let i = 0; i < len; i++) {
    const flow = resolved(ring.flows[i]!);
    if (flow.sentIn !== gen) {
      flow.sentIn = gen;
      if (flow.autoName) {
        flow.autoName = false;
        const fn = siteOf(num[i * STRIDE + 3]!)?.fn;
        if (fn) flow.name = `${fn} (${flow.name})`;
      }
      out.push(taskMessage(flow));
    }
    const res = ring.resources[i];
    if (res && res.sentIn !== gen) {
      res.sentIn = gen;
      if (res.site) registerSite(res.site, sites);
      out.push(resourceMessage(res));
    }
    const site = num[i * STRIDE + 3]!;
    if (site) registerSite(site, sites);
  }
  // Sites first: resources and events refer to them.
  return sites.length ? [...sites, ...out] : out;
}

function eventAt(i: number): WireEvent {
  const o = i * STRIDE;
  const num = ring.num;
  const ev: WireEvent = {
    us: Math.round(num[o]! * 1000),
    op: OPS[num[o + 1]!] ?? 'invalid',
    task: resolved(ring.flows[i]!).id,
  };
  if (num[o + 2]) ev.res = num[o + 2]!;
  if (num[o + 3]) ev.site = num[o + 3]!;
  if (num[o + 4]) ev.n = num[o + 4]!;
  if (num[o + 5]) ev.peer = num[o + 5]!;
  return ev;
}

/**
 * Encodes the buffered events as one `events` line without building objects first. Every field
 * is a small integer, which V8 turns into text several times faster than a fractional number.
 */
function eventsLine(len: number, origin: number): string {
  const num = ring.num;
  let s = `{"t":"events","thread":${rt.threadId},"origin":${origin},"events":[`;
  for (let i = 0; i < len; i++) {
    const o = i * STRIDE;
    if (i) s += ',';
    s += `{"us":${Math.round(num[o]! * 1000)},"op":"${OPS[num[o + 1]!] ?? 'invalid'}","task":${resolved(ring.flows[i]!).id}`;
    if (num[o + 2]) s += `,"res":${num[o + 2]}`;
    if (num[o + 3]) s += `,"site":${num[o + 3]}`;
    if (num[o + 4]) s += `,"n":${num[o + 4]}`;
    if (num[o + 5]) s += `,"peer":${num[o + 5]}`;
    s += '}';
  }
  return s + ']}\n';
}

const hooks = shared('flush-hooks', () => new Set<() => void>());

/** Runs `hook` at every flush, before the batch is delivered. */
export function onFlush(hook: () => void): void {
  hooks.add(hook);
}

/** Delivers everything buffered to the sinks. Safe to call at any time, from any build. */
export function flush(): void {
  ring.flushScheduled = false;
  for (const hook of hooks) hook();
  const len = ring.len;
  if (len === 0) return;
  ring.len = 0;
  if (rt.sinks.length === 0) {
    ring.flows.fill(undefined, 0, len);
    ring.resources.fill(undefined, 0, len);
    return;
  }
  const origin = performance.timeOrigin;
  const head = registries(len);
  let messages: Message[] | undefined;
  let text: string | undefined;
  const batch: Batch = {
    eventCount: len,
    messages() {
      if (!messages) {
        const events: WireEvent[] = new Array<WireEvent>(len);
        for (let i = 0; i < len; i++) events[i] = eventAt(i);
        messages = head.concat({ t: 'events', thread: rt.threadId, origin, events });
      }
      return messages;
    },
    text() {
      if (text === undefined) {
        let s = '';
        for (const m of head) s += JSON.stringify(m) + '\n';
        text = s + eventsLine(len, origin);
      }
      return text;
    },
  };
  for (const sink of rt.sinks) {
    try {
      sink.write(batch);
    } catch (err) {
      warnOnce(`sink-${sink.kind}`, `the ${sink.kind} sink failed: ${String(err)}`);
    }
  }
  ring.flows.fill(undefined, 0, len);
  ring.resources.fill(undefined, 0, len);
}

export function helloMessage(token?: string): Hello {
  const hello: Hello = {
    t: 'hello',
    protocol: 1,
    probe: PROBE_VERSION,
    capabilities: ['events', 'sites', 'stacks', 'heartbeat', 'idle'],
    pid: process.pid,
    title: process.title,
    thread: rt.threadId,
    ts: roundTs(rt.startTs),
  };
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

function heartbeat(): void {
  flush();
  const ts = roundTs(now());
  controlAll((s) => ({ t: 'heartbeat', ts, produced: rt.produced, dropped: s.dropped }));
}

/**
 * `beforeExit` fires when the event loop has nothing left to run: the program is finishing, or
 * every task is blocked on promises that nothing can settle (a silent deadlock). The analysis
 * cannot see timers or I/O, so the probe says so with an `idle` message. Delivering it schedules
 * I/O, after which `beforeExit` fires again; the produced counter tells the two apart.
 */
function onBeforeExit(): void {
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
  for (const sink of rt.sinks) {
    const s = sink.stats();
    try {
      sink.close({ t: 'end', ts, exitCode, produced: rt.produced, dropped: s.dropped });
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
  ring.heartbeat = setInterval(heartbeat, rt.config.heartbeatMs);
  ring.heartbeat.unref();
}

/** Attaches a sink: from now on operations are recorded and delivered to it. */
export function attachSink(sink: Sink): () => void {
  flush();
  rt.sinks.push(sink);
  rt.sinkGeneration++;
  rt.recording = true;
  installLifecycle();
  startHeartbeat();
  return () => detachSink(sink);
}

export function detachSink(sink: Sink): void {
  const i = rt.sinks.indexOf(sink);
  if (i < 0) return;
  flush();
  rt.sinks.splice(i, 1);
  rt.recording = rt.sinks.length > 0;
  if (!rt.recording && ring.heartbeat) {
    clearInterval(ring.heartbeat);
    ring.heartbeat = undefined;
  }
}

export interface ProbeStats {
  /** Events recorded since the process started. */
  produced: number;
  /** Events recorded but not yet flushed to the sinks. */
  buffered: number;
  /** Of the transport set up from the environment (socket, else file), or the first sink. */
  sent: number;
  dropped: number;
  inFlight: number;
  sinks: SinkStats[];
}

export function stats(): ProbeStats {
  const sinks = rt.sinks.map((s) => s.stats());
  const primary =
    sinks.find((s) => s.kind === 'socket') ?? sinks.find((s) => s.kind === 'file') ?? sinks[0];
  return {
    produced: rt.produced,
    buffered: ring.len,
    sent: primary?.sent ?? 0,
    dropped: primary?.dropped ?? 0,
    inFlight: primary?.inFlight ?? 0,
    sinks,
  };
}

/** Names of misuse codes, for messages. */
export function misuseName(code: number): string {
  return MISUSE_CODES[code] ?? 'misuse';
}
