/**
 * The recorder's batch buffer and its encoding: the registry messages a batch needs, and its
 * events as objects or as one JSON line. Pure functions of the buffer, run only at flush time.
 */
import { OPS, threadOfId, type Message, type SiteMessage, type WireEvent } from './protocol.js';
import { rt, type Flow, type ResourceRec } from './runtime.js';
import { completeName, resolved } from './identity.js';
import { registerSite, siteOf } from './sites.js';
import { Op } from './sync.js';
import { watchResource } from './collected.js';
import { part, putPart, putUint, utf8, type ByteWriter, type Part } from './bytes.js';

export const STRIDE = 6; // ts, op, res, site, n, peer

/** One batch's worth of events. */
export interface Buffer {
  len: number;
  num: Float64Array;
  flows: (Flow | undefined)[];
  resources: (ResourceRec | undefined)[];
  /** Flows to register although no event of theirs is in the buffer (parents, join targets). */
  extraFlows: Flow[];
}

export function makeBuffer(cap: number): Buffer {
  return {
    len: 0,
    num: new Float64Array(cap * STRIDE),
    flows: new Array<Flow | undefined>(cap).fill(undefined),
    resources: new Array<ResourceRec | undefined>(cap).fill(undefined),
    extraFlows: [],
  };
}

function taskMessage(flow: Flow): Message {
  const msg: Message = {
    t: 'task',
    id: flow.id,
    name: flow.name,
    kind: flow.kind,
    // The flow's own thread, which is not the sender's for a worker's main flow that its parent
    // registers.
    thread: threadOfId(flow.id),
  };
  if (flow.parent) {
    flow.parentId = resolved(flow.parent).id;
    flow.parent = undefined;
  }
  if (flow.parentId !== undefined) msg.parent = flow.parentId;
  if (flow.uncertain) msg.uncertain = true;
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
  // JSON has no Infinity: an unbounded capacity is left out, and the policy says so.
  if (res.capacity !== undefined && Number.isFinite(res.capacity)) msg.capacity = res.capacity;
  if (res.policy !== undefined) msg.policy = res.policy;
  if (res.global !== undefined) msg.global = res.global;
  return msg;
}

/** Collects the registry messages the current sinks have not seen for the buffered events. */
export function registries(buf: Buffer): Message[] {
  const gen = rt.sinkGeneration;
  const out: Message[] = [];
  const sites: SiteMessage[] = [];
  const num = buf.num;
  const addFlow = (f: Flow, site: number): void => {
    const flow = resolved(f);
    if (flow.sentIn === gen) return;
    flow.sentIn = gen;
    completeName(flow, siteOf(site)?.fn);
    out.push(taskMessage(flow));
  };
  for (const f of buf.extraFlows) addFlow(f, 0);
  // Runs of events by one flow on one resource are the common case: each is looked at once.
  let lastFlow: Flow | undefined;
  let lastRes: ResourceRec | undefined;
  let lastSite = 0;
  for (let i = 0; i < buf.len; i++) {
    const flow = buf.flows[i]!;
    if (flow !== lastFlow) {
      addFlow(flow, num[i * STRIDE + 3]!);
      lastFlow = flow;
    }
    const res = buf.resources[i];
    if (res !== lastRes && res && res.sentIn !== gen) {
      res.sentIn = gen;
      if (res.site) registerSite(res.site, sites);
      out.push(resourceMessage(res));
      watchResource(res);
    }
    lastRes = res;
    const site = num[i * STRIDE + 3]!;
    if (site && site !== lastSite) registerSite(site, sites);
    lastSite = site;
  }
  // Sites first: resources and events refer to them.
  return sites.length ? [...sites, ...out] : out;
}

/**
 * The peer of event `i`. A task's start names its parent, which may have been provisional when
 * the event was recorded, so it is resolved now.
 */
function peerOf(buf: Buffer, i: number): number {
  if (buf.num[i * STRIDE + 1] === Op.taskStart) {
    const flow = buf.flows[i]!;
    return flow.parent ? resolved(flow.parent).id : (flow.parentId ?? 0);
  }
  return buf.num[i * STRIDE + 5]!;
}

export function eventAt(buf: Buffer, i: number, shift: number): WireEvent {
  const o = i * STRIDE;
  const num = buf.num;
  const ev: WireEvent = {
    us: Math.round((num[o]! - shift) * 1000),
    op: OPS[num[o + 1]!] ?? 'invalid',
    task: resolved(buf.flows[i]!).id,
  };
  if (num[o + 2]) ev.res = num[o + 2]!;
  if (num[o + 3]) ev.site = num[o + 3]!;
  if (num[o + 4]) ev.n = num[o + 4]!;
  const peer = peerOf(buf, i);
  if (peer) ev.peer = peer;
  return ev;
}

const US = part('{"us":');
/**
 * What ends an event and begins the next: written after every event, and taken back after the
 * last. A repeated tail (below) carries it, so that an event costs two copies, not three.
 */
const NEXT = part('},{"us":');
const RES = part(',"res":');
const SITE = part(',"site":');
const N = part(',"n":');
const PEER = part(',"peer":');
/** `,"op":"acquired","task":` and the like, per operation code. */
const OP_TASK = OPS.map((op) => part(`,"op":"${op}","task":`));
const INVALID_TASK = part(',"op":"invalid","task":');
const END = utf8(']}\n');
/** More than any event takes: the keys, the longest operation name and six 16-digit numbers. */
const MAX_EVENT_BYTES = 256;

/**
 * The last tail (`,"op":...}`, all of an event but its time) written for each operation, with
 * the fields it was made of: a loop that takes and gives back one lock writes the same two tails
 * again and again, which are then copied whole instead of being written field by field. A tail
 * becomes a part the second time in a row it is written.
 */
const tails = {
  task: new Float64Array(OPS.length).fill(-1),
  res: new Float64Array(OPS.length),
  site: new Float64Array(OPS.length),
  n: new Float64Array(OPS.length),
  peer: new Float64Array(OPS.length),
  part: new Array<Part | undefined>(OPS.length).fill(undefined),
};

/**
 * Writes the buffered events as one `events` line into `out`, byte by byte: every field is an
 * integer or a fixed key, so no string is made (bytes.ts). Room for a whole batch is made once.
 * A repeated tail saves about 30 ns an acquire + release (5 interleaved runs each way).
 */
export function writeEventsLine(buf: Buffer, origin: number, shift: number, out: ByteWriter): void {
  const num = buf.num;
  out.text(`{"t":"events","thread":${rt.threadId},"origin":${origin},"events":[`);
  let b = out.reserve(buf.len * MAX_EVENT_BYTES);
  let view = out.dataView();
  let at = out.length;
  // Runs of events by one flow are the common case: its id is resolved once per run.
  let flow: Flow | undefined;
  let task = 0;
  at = putPart(view, b, at, US);
  for (let i = 0; i < buf.len; i++) {
    const o = i * STRIDE;
    at = putUint(b, at, Math.round((num[o]! - shift) * 1000));
    const op = num[o + 1]! | 0;
    if (buf.flows[i] !== flow) {
      flow = buf.flows[i]!;
      task = resolved(flow).id;
    }
    const res = num[o + 2]!;
    const site = num[o + 3]!;
    const n = num[o + 4]!;
    const peer = op === Op.taskStart ? peerOf(buf, i) : num[o + 5]!;
    const same =
      op < OPS.length &&
      tails.task[op] === task &&
      tails.res[op] === res &&
      tails.site[op] === site &&
      tails.n[op] === n &&
      tails.peer[op] === peer;
    const known = same ? tails.part[op] : undefined;
    if (known) {
      at = putPart(view, b, at, known);
      continue;
    }
    const tail = at;
    at = putPart(view, b, at, OP_TASK[op] ?? INVALID_TASK);
    at = putUint(b, at, task);
    if (res) at = putUint(b, putPart(view, b, at, RES), res);
    if (site) at = putUint(b, putPart(view, b, at, SITE), site);
    let plain = true;
    if (n) {
      at = putPart(view, b, at, N);
      if (n > 0 && Number.isSafeInteger(n)) at = putUint(b, at, n);
      else {
        // A negative or fractional `n` (a receive from a closed channel is -1): rare, by text.
        out.length = at;
        out.number(n);
        at = out.length;
        b = out.reserve(0);
        view = out.dataView();
        plain = false;
      }
    }
    if (peer) at = putUint(b, putPart(view, b, at, PEER), peer);
    at = putPart(view, b, at, NEXT);
    if (op >= OPS.length || !plain) continue;
    if (same) {
      tails.part[op] = part(b.subarray(tail, at));
    } else {
      tails.task[op] = task;
      tails.res[op] = res;
      tails.site[op] = site;
      tails.n[op] = n;
      tails.peer[op] = peer;
      tails.part[op] = undefined;
    }
  }
  // The last event's `,{"us":` is taken back: its `}` stays.
  out.length = at - (NEXT.length - 1);
  out.raw(END);
}
