/**
 * Worker threads report through the main thread: a worker's probe forwards each flushed batch on
 * a BroadcastChannel named for the process, and the main thread delivers it to its own sinks.
 * Ids are unique in the process (the thread id is folded into them), so a worker's registries
 * and events need no translation. Per-thread order is kept; batches of different threads
 * interleave in the order they arrive.
 *
 * The main thread delivers forwarded batches to its trace file and in-process subscribers. For a
 * collector, a dedicated I/O thread listens on the same channel and writes them to a connection
 * of its own: it never waits on a lock, so a deadlocked process, with its main thread and every
 * worker blocked, is still observed. (A worker cannot hold a connection itself: the connection
 * is made on its event loop, which a worker that blocks at once never runs.)
 */
import { BroadcastChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Message } from '../protocol.js';
import { utf8 } from '../bytes.js';
import {
  rt,
  shared,
  warnOnce,
  type Batch,
  type Sink,
  type SinkStats,
  handedOnStats,
} from '../runtime.js';
import {
  awaitIoThread,
  closeLedger,
  countDelivered,
  countPosted,
  expectIoThread,
  ioThreadGone,
  openLedger,
  IO_LISTENING,
  IO_HANDLED,
  IO_WRITTEN_EVENTS,
  processLedger,
  workerLedgers,
  type LedgerRefs,
} from './delivery.js';
import {
  DEAD_HANDSHAKE_FAILED,
  DEAD_LOST,
  Q_CLOSED,
  Q_DEAD,
  Q_PENDING,
  Q_WRITTEN_EVENTS,
} from './lossless-counters.js';
import { clientParameters, remoteOf } from '../remote.js';

export function channelName(): string {
  return `lockscope.v1.${process.pid}`;
}

interface Forwarded {
  thread: number;
  eventCount: number;
  messages: Message[];
  /** The shared counters the main thread counts the batch delivered in (see delivery.ts). */
  ledgers: LedgerRefs;
}

/** In a worker: sends every batch to the main thread. */
export class ThreadForwardSink implements Sink {
  readonly kind = 'thread';
  readonly takesForwarded = false;
  readonly target = 'main thread';
  #channel = new BroadcastChannel(channelName());
  #sent = 0;
  #error: string | undefined;
  // Read before the program can start threads of its own, which must not count into them.
  #ledgers = workerLedgers();
  readonly #lossless = process.env.LOCKSCOPE_LOSSLESS === '1';

  constructor() {
    // A worker must not be kept alive by its probe.
    this.#channel.unref();
    openLedger(this.#ledgers);
  }

  write(batch: Batch): void {
    // The I/O thread must be listening before the batch goes, or it would never see it.
    awaitIoThread(this.#ledgers, this.#lossless);
    const message: Forwarded = {
      thread: rt.threadId,
      eventCount: batch.eventCount,
      messages: batch.messages(),
      ledgers: this.#ledgers,
    };
    // Counted before the post, so that delivered never runs ahead of posted (workers share the
    // process ledger); a post that throws takes its count back.
    countPosted(this.#ledgers, batch.eventCount, 1);
    try {
      this.#channel.postMessage(message);
      this.#sent += batch.eventCount;
    } catch (err) {
      countPosted(this.#ledgers, -batch.eventCount, -1);
      this.#error = String(err);
      warnOnce('thread-forward', `could not forward a worker's events: ${this.#error}`);
    }
  }

  // Heartbeats, idle and end are the process's, which the main thread reports.
  control(): void {}

  // Called at the thread's exit, after its last batch.
  close(): void {
    this.#channel.close();
    closeLedger(this.#ledgers);
  }

  stats(): SinkStats {
    return handedOnStats(this, this.#sent, this.#error);
  }
}

function isForwarded(value: unknown): value is Forwarded {
  if (typeof value !== 'object' || value === null) return false;
  const f = value as Partial<Forwarded>;
  return (
    typeof f.thread === 'number' && typeof f.eventCount === 'number' && Array.isArray(f.messages)
  );
}

/**
 * On the main thread: delivers the batches forwarded by workers to `deliver`. Returns a function
 * that stops listening.
 */
export function listenToThreads(deliver: (batch: Batch) => void): () => void {
  // Made before any worker starts, so that every worker inherits it.
  processLedger();
  const channel = new BroadcastChannel(channelName());
  channel.unref();
  channel.onmessage = (event: unknown) => {
    const data = (event as { data?: unknown }).data;
    if (!isForwarded(data)) return;
    const { messages, eventCount } = data;
    rt.produced += eventCount;
    let bytes: Uint8Array | undefined;
    deliver({
      eventCount,
      messages: () => messages,
      // Bytes of their own (not from Buffer's pool), so that a sink may keep or transfer them.
      bytes: () => (bytes ??= utf8(messages.map((m) => JSON.stringify(m) + '\n').join(''))),
    });
    if (typeof data.ledgers === 'object' && data.ledgers !== null) {
      countDelivered(data.ledgers, eventCount);
    }
  };
  return () => channel.close();
}

/**
 * The I/O thread's whole program. It is evaluated as a script, so it works with any build of the
 * probe: it streams every batch workers forward to the collector after a hello of its own, even
 * when the main thread and every worker are blocked. In lossless mode it also writes what the
 * main thread posts on `port`, and counts it written in `counters` (see transports/lossless.ts).
 */
const IO_THREAD = `
const { BroadcastChannel, workerData, threadId } = require('node:worker_threads');
const { connect } = require('node:net');
const { channel, endpoint, tls, hello, port, counters, ledger, highWater } = workerData;
// A remote collector: TLS with the token's key, the options remote.ts's connectCollector makes.
const socket = tls
  ? require('node:tls').connect({
      ...tls,
      psk: undefined,
      identity: undefined,
      pskCallback: () => ({ psk: Buffer.from(tls.psk), identity: tls.identity }),
      checkServerIdentity: () => new Error('not keyed'),
    })
  : connect(endpoint);
const dead = (err) => {
  if (ledger) {
    Atomics.store(ledger, ${IO_LISTENING}, -1);
    Atomics.notify(ledger, ${IO_LISTENING});
    Atomics.notify(ledger, ${IO_HANDLED});
  }
  if (!counters) return;
  // The first reason stays: the close and the exit that follow a refusal say nothing new.
  // The same test as remote.ts's isHandshakeFailure, which this script cannot import.
  const refused =
    tls && (err?.message === 'not keyed' || err?.code === 'EPROTO' || String(err?.code).startsWith('ERR_SSL_'));
  Atomics.compareExchange(counters, ${Q_DEAD}, 0, refused ? ${DEAD_HANDSHAKE_FAILED} : ${DEAD_LOST});
  Atomics.notify(counters, ${Q_PENDING});
};
socket.on('error', dead);
// What the collector sends is read and dropped: a TLS 1.3 server sends session tickets after the
// handshake, and a process that exits with them unread resets the connection, which can make the
// collector drop the last events it had not read yet.
socket.resume();
socket.on('close', () => {
  // After the last write a remote collector closing is the end, not a loss (see ending()).
  if (!endingSocket) return dead();
  Atomics.store(counters, ${Q_CLOSED}, 1);
  Atomics.notify(counters, ${Q_PENDING});
});
let endingSocket = false;
// A remote collector closes the connection once it has read to its end: the main thread's exit
// waits for that (lossless.ts).
function ending() {
  endingSocket = true;
  socket.end();
}
// Whatever ends this thread, the main thread must not wait for it.
process.on('uncaughtException', () => dead());
process.on('exit', () => dead());
socket.write(JSON.stringify({ ...hello, thread: threadId }) + '\\n');
const ch = new BroadcastChannel(channel);
ch.onmessage = (event) => {
  const data = event.data;
  if (!data || !Array.isArray(data.messages)) return;
  let text = '';
  for (const m of data.messages) text += JSON.stringify(m) + '\\n';
  const events = typeof data.eventCount === 'number' ? data.eventCount : 0;
  // A collector this far behind is stalled: the batch is dropped and counted, as the socket
  // sink does, instead of queued without bound. In lossless mode workers wait long before this.
  if (socket.writableLength > highWater) {
    // The first drop is told at once, queued behind what came before it (no event may follow
    // it unannounced, and the program may end before anything else is written).
    if (dropped === gapTold) tellGap(dropped + events);
    dropped += events;
    handled();
    return;
  }
  if (dropped > gapTold) tellGap(dropped);
  socket.write(text, (err) => {
    if (!err && ledger) Atomics.add(ledger, ${IO_WRITTEN_EVENTS}, events);
    handled();
  });
};
let dropped = 0;
let gapTold = 0;
function tellGap(count) {
  gapTold = count;
  socket.write(JSON.stringify({ t: 'heartbeat', ts: Date.now(), produced: 0, dropped: count }) + '\\n');
}
function handled() {
  if (!ledger) return;
  Atomics.add(ledger, ${IO_HANDLED}, 1);
  Atomics.notify(ledger, ${IO_HANDLED});
}
// Workers wait for this before they post (see delivery.ts).
if (ledger && Atomics.load(ledger, ${IO_LISTENING}) === 0) {
  Atomics.store(ledger, ${IO_LISTENING}, 1);
  Atomics.notify(ledger, ${IO_LISTENING});
}
// The main thread's batches are written one at a time, each once the one before it was handed
// to the system: a batch counts as written by its own write, and a connection reset in the
// middle of a later one cannot take back what was already written (writes queued together
// would share one outcome).
const posted = [];
let writing = false;
function writeNext() {
  const next = posted.shift();
  writing = next !== undefined;
  if (!writing) return;
  socket.write(next.bytes, (err) => {
    if (err) return dead(err);
    Atomics.sub(counters, ${Q_PENDING}, next.bytes.length);
    Atomics.add(counters, ${Q_WRITTEN_EVENTS}, next.events);
    Atomics.notify(counters, ${Q_PENDING});
    if (next.last && tls) ending();
    writeNext();
  });
}
if (port) {
  port.on('message', ({ bytes, events, last }) => {
    posted.push({ bytes, events, last });
    if (!writing) writeNext();
  });
}
`;

// Shared by both builds, so that a process starts one I/O thread whichever build asks.
const io = shared('io-thread', () => ({ started: false }));

/** What the main thread hands the I/O thread in lossless mode. */
export interface LosslessChannel {
  port: MessagePort;
  counters: Int32Array;
}

/**
 * Starts the I/O thread once per process: when workers will forward to a collector, or when the
 * main thread delivers losslessly through it (which then comes first, at the probe's start).
 */
export function ensureIoThread(endpoint: string, hello: Message, lossless?: LosslessChannel): void {
  if (io.started) return;
  // A malformed remote endpoint streams nothing; config.ts said so once.
  if (typeof remoteOf(endpoint) === 'string') return;
  io.started = true;
  const ledger = expectIoThread();
  const w = new Worker(IO_THREAD, {
    eval: true,
    workerData: {
      channel: channelName(),
      endpoint,
      tls: clientParameters(endpoint, (hello.t === 'hello' ? hello.token : undefined) ?? ''),
      hello,
      ledger,
      // Lossless producers wait at the limit itself; the I/O thread drops only far past it.
      highWater: rt.config.socketHighWater * (lossless ? 4 : 1),
      ...lossless,
    },
    transferList: lossless ? [lossless.port] : [],
    // The I/O thread must not keep the process alive, nor run the program's flags.
    execArgv: [],
    env: {},
  });
  w.unref();
  w.on('error', (err) => warnOnce('io-thread', `the I/O thread failed: ${String(err)}`));
  // An I/O thread that could not start never sets the flags itself.
  w.on('exit', () => {
    if (ledger) ioThreadGone(ledger);
    if (!lossless) return;
    Atomics.compareExchange(lossless.counters, Q_DEAD, 0, DEAD_LOST);
    Atomics.notify(lossless.counters, Q_PENDING);
  });
}
