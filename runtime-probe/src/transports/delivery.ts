/**
 * Delivery ledgers: how the main thread knows that a worker's batches have all arrived.
 *
 * A worker forwards its batches on a BroadcastChannel, and a BroadcastChannel message can arrive
 * after the Worker's `exit` event (Node drains a worker's own ports before `exit`, but not a
 * channel). So each forwarded batch is counted twice in shared memory: by the worker when it posts
 * it, and by the main thread when it has handed it to its sinks. Whoever waits for a worker
 * (`Worker.join()`, the thread-exit event, the process's own exit) compares the two counts.
 *
 * A ledger is an Int32Array over a SharedArrayBuffer: batches posted, batches delivered, events
 * posted, events delivered (event counts wrap at 2^32; only their difference is used). The
 * process's ledger also follows the I/O thread (transports/thread.ts), which writes the workers'
 * batches to a collector on a connection of its own: whether one is expected, whether it listens
 * yet (-1 once it is gone), the batches posted while it listened, the batches it has handled
 * (written, or dropped when the collector falls too far behind) and the events it has written. Ledgers
 * reach the worker through `worker_threads` environment data, which every new Worker receives a
 * copy of as it is constructed: one ledger for the whole process, set once by the main thread and
 * inherited by every descendant, and one per lockscope Worker, set just around its construction.
 * A worker's batches carry its ledgers, so the main thread can count them delivered.
 */
import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';
import { rt, shared } from '../runtime.js';
import { clock } from '../clock.js';
import { isSharedTable, newSharedTable } from '../shared-table.js';

const PROCESS_KEY = 'lockscope.delivery.process.v1';
const WORKER_KEY = 'lockscope.delivery.worker.v1';
const POSTED = 0;
const DELIVERED = 1;
const POSTED_EVENTS = 2;
const DELIVERED_EVENTS = 3;
const IO_EXPECTED = 4;
export const IO_LISTENING = 5;
export const IO_HANDLED = 6;
export const IO_WRITTEN_EVENTS = 7;
/** Batches workers posted while the I/O thread listened: the ones it will handle. */
const IO_POSTED = 8;
/**
 * In a worker's own ledger: 1 while its probe forwards batches, 2 once it has sent its last
 * one, as it exits by itself (0: its probe never forwarded anything).
 */
const FORWARDING = 9;
const LEDGER_LENGTH = 10;

/** How long a worker waits for the I/O thread to listen before it posts anyway. */
const IO_START_MS = 5000;
/**
 * In lossless mode, how many workers' events may wait for the I/O thread before a worker that
 * posts more waits; and how long it waits with no progress before it posts anyway.
 */
const IO_BACKLOG_EVENTS = 100_000;
const IO_STALL_MS = 10_000;

/** How long a waiter waits for a worker's last batches before it counts them as lost. */
export const DELIVERY_TIMEOUT_MS = 5000;
/** How often a waiter looks at the ledger; a ref'd timer, so it keeps the process alive. */
const POLL_MS = 2;

export type Ledger = Int32Array;

function newLedger(): Ledger {
  return newSharedTable(LEDGER_LENGTH);
}

function isLedger(value: unknown): value is Ledger {
  return isSharedTable(value, LEDGER_LENGTH);
}

const state = shared('delivery', () => ({
  /** The process's ledger (every worker's batches), made by the main thread. */
  process: undefined as Ledger | undefined,
  /** In a worker started by a lockscope Worker: the ledger its parent waits on. */
  own: undefined as Ledger | undefined,
  taken: false,
}));

/** The process-wide ledger: made on the main thread, inherited by every worker. */
export function processLedger(): Ledger | undefined {
  if (state.process) return state.process;
  const inherited = getEnvironmentData(PROCESS_KEY);
  if (isLedger(inherited)) {
    state.process = inherited;
  } else if (rt.threadId === 0) {
    state.process = newLedger();
    setEnvironmentData(PROCESS_KEY, state.process);
  }
  return state.process;
}

/**
 * In a worker: the ledger of the lockscope Worker that started this thread, if one did. It is
 * taken out of the environment data so that threads this one starts do not count into it.
 */
function ownLedger(): Ledger | undefined {
  if (!state.taken) {
    state.taken = true;
    const value = getEnvironmentData(WORKER_KEY);
    if (isLedger(value)) state.own = value;
    if (value !== undefined) setEnvironmentData(WORKER_KEY, undefined);
  }
  return state.own;
}

/** The ledgers a worker's batch counts into, to be sent along with it. */
export interface LedgerRefs {
  process: Ledger | undefined;
  own: Ledger | undefined;
}

export function workerLedgers(): LedgerRefs {
  return { process: processLedger(), own: ownLedger() };
}

/**
 * In a worker, just before a batch is posted (`batches` 1), or to take that back when the post
 * failed (-1, with the events negated).
 */
export function countPosted(refs: LedgerRefs, events: number, batches: 1 | -1): void {
  for (const ledger of [refs.process, refs.own]) {
    if (!ledger) continue;
    Atomics.add(ledger, POSTED_EVENTS, events);
    Atomics.add(ledger, POSTED, batches);
  }
  // The I/O thread subscribes before it says it listens, so it receives every batch posted after.
  const ledger = refs.process;
  if (ledger && Atomics.load(ledger, IO_LISTENING) === 1) Atomics.add(ledger, IO_POSTED, batches);
}

/** On the main thread, after a forwarded batch was handed to the sinks. */
export function countDelivered(refs: Partial<LedgerRefs>, events: number): void {
  for (const ledger of [refs.process, refs.own]) {
    if (!isLedger(ledger)) continue;
    Atomics.add(ledger, DELIVERED_EVENTS, events);
    Atomics.add(ledger, DELIVERED, 1);
  }
}

/** In a worker, when its probe starts to forward batches. */
export function openLedger(refs: LedgerRefs): void {
  if (refs.own) Atomics.store(refs.own, FORWARDING, 1);
}

/**
 * In a worker, as it exits by itself (its `exit` listeners run): it has sent its last batch. A
 * worker ended from outside (terminated) never says so, and what it had not sent is lost.
 */
export function closeLedger(refs: LedgerRefs): void {
  if (refs.own) Atomics.store(refs.own, FORWARDING, 2);
}

/**
 * Whether the worker of this ledger ended with events it had not sent: its probe forwarded
 * batches, and it ended before it could send its last one (see closeLedger).
 */
export function cutShort(ledger: Ledger): boolean {
  return Atomics.load(ledger, FORWARDING) === 1;
}

/** Events posted and not (yet) delivered. */
export function undelivered(ledger: Ledger): number {
  // Delivered is read first: a batch counted delivered was counted posted before it was sent, so
  // posted read after it is never behind. The counters wrap; their signed difference does not.
  const deliveredEvents = Atomics.load(ledger, DELIVERED_EVENTS);
  const delivered = Atomics.load(ledger, DELIVERED);
  const posted = Atomics.load(ledger, POSTED);
  if (((posted - delivered) | 0) <= 0) return 0;
  return Math.max(0, (Atomics.load(ledger, POSTED_EVENTS) - deliveredEvents) | 0);
}

const opened = shared('delivery-open', () => ({
  open: false,
  previous: undefined as ReturnType<typeof getEnvironmentData> | undefined,
}));

/**
 * Puts a new ledger in this thread's environment data, for the Worker about to be constructed:
 * Node copies the environment data into the new thread as it constructs it. The previous value
 * is put back after the constructor (`closeWorkerLedger`), or at the next microtask if the
 * constructor threw.
 */
export function openWorkerLedger(): Ledger {
  processLedger();
  closeWorkerLedger();
  const ledger = newLedger();
  opened.previous = getEnvironmentData(WORKER_KEY);
  opened.open = true;
  setEnvironmentData(WORKER_KEY, ledger);
  queueMicrotask(closeWorkerLedger);
  return ledger;
}

export function closeWorkerLedger(): void {
  if (!opened.open) return;
  opened.open = false;
  // Setting undefined removes the key, as it was before.
  setEnvironmentData(WORKER_KEY, opened.previous);
  opened.previous = undefined;
}

/**
 * Resolves once `done()` holds, looking every POLL_MS on the probe's own timers, or after
 * `timeoutMs`. While it waits, a ref'd timer keeps the process alive, so what it waits for has an
 * event loop to arrive on.
 */
function pollUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  if (done()) return Promise.resolve();
  const deadline = clock.now() + timeoutMs;
  return new Promise((resolve) => {
    const look = (): void => {
      if (done() || clock.now() >= deadline) resolve();
      else clock.setTimeout(look, POLL_MS);
    };
    clock.setTimeout(look, POLL_MS);
  });
}

/**
 * Resolves once every batch counted in the ledger has been delivered, or after `timeoutMs`, with
 * the number of events still undelivered then (0 when all arrived).
 */
export async function whenDelivered(
  ledger: Ledger,
  timeoutMs = DELIVERY_TIMEOUT_MS,
): Promise<number> {
  await pollUntil(() => undelivered(ledger) === 0, timeoutMs);
  return undelivered(ledger);
}

const drain = shared('delivery-drain', () => ({ waiting: false, since: -1 }));

/**
 * On the main thread, when it has nothing left to run (`beforeExit`): workers' last batches can
 * still be on their way. Keeps the process alive until they have arrived; `beforeExit` then fires
 * again. All such waits of one process together last at most DELIVERY_TIMEOUT_MS, so a worker
 * the program unref'd, and that keeps posting, cannot keep the process alive: what has not
 * arrived then is counted as dropped. True while waiting.
 */
export function waitForWorkers(): boolean {
  const ledger = rt.threadId === 0 ? state.process : undefined;
  if (!ledger || drain.waiting || undelivered(ledger) === 0) return false;
  const now = clock.now();
  if (drain.since < 0) drain.since = now;
  const left = drain.since + DELIVERY_TIMEOUT_MS - now;
  if (left <= 0) return false;
  drain.waiting = true;
  void whenDelivered(ledger, left).then(() => {
    drain.waiting = false;
  });
  return true;
}

/** On the main thread: events that workers posted and that have not reached its sinks. */
export function undeliveredWorkerEvents(): number {
  const ledger = rt.threadId === 0 ? state.process : undefined;
  return ledger ? undelivered(ledger) : 0;
}

/**
 * On the main thread, before it starts the I/O thread: from now on workers wait for it to listen
 * before they post (a BroadcastChannel message posted before a receiver subscribes is lost to it).
 */
export function expectIoThread(): Ledger | undefined {
  const ledger = processLedger();
  if (ledger) Atomics.store(ledger, IO_EXPECTED, 1);
  return ledger;
}

/** The I/O thread is gone: nobody waits for it any more. */
export function ioThreadGone(ledger: Ledger): void {
  Atomics.store(ledger, IO_LISTENING, -1);
  Atomics.notify(ledger, IO_LISTENING);
  Atomics.notify(ledger, IO_HANDLED);
}

/**
 * In a worker, before it posts a batch: waits (bounded) until the I/O thread listens, if one is
 * expected; in lossless mode also while more than IO_BACKLOG_EVENTS of the workers' events wait
 * for it, so that a busy worker is slowed rather than let the backlog grow without bound.
 */
export function awaitIoThread(refs: LedgerRefs, lossless: boolean): void {
  const ledger = refs.process;
  if (!ledger || Atomics.load(ledger, IO_EXPECTED) !== 1) return;
  if (Atomics.load(ledger, IO_LISTENING) === 0) {
    Atomics.wait(ledger, IO_LISTENING, 0, IO_START_MS);
  }
  if (!lossless) return;
  let since = clock.now();
  for (;;) {
    if (Atomics.load(ledger, IO_LISTENING) !== 1) return;
    const handled = Atomics.load(ledger, IO_HANDLED);
    if (unwritten(ledger) <= IO_BACKLOG_EVENTS) return;
    const left = IO_STALL_MS - (clock.now() - since);
    if (left <= 0) return;
    if (Atomics.wait(ledger, IO_HANDLED, handled, left) !== 'timed-out') since = clock.now();
  }
}

/**
 * Resolves once the I/O thread has handled every batch that workers had posted to it when this
 * was called, or after `timeoutMs` (or at once when there is no I/O thread, or it is gone). What
 * this thread records next then reaches a collector after those batches: on the same connection
 * in lossless mode, where the I/O thread also writes this thread's batches, and written to the
 * socket before, on a connection of its own, otherwise.
 */
export function whenWritten(timeoutMs = DELIVERY_TIMEOUT_MS): Promise<void> {
  const ledger = processLedger();
  if (!ledger || Atomics.load(ledger, IO_EXPECTED) !== 1) return Promise.resolve();
  const posted = Atomics.load(ledger, IO_POSTED);
  return pollUntil(
    () =>
      Atomics.load(ledger, IO_LISTENING) !== 1 ||
      ((Atomics.load(ledger, IO_HANDLED) - posted) | 0) >= 0,
    timeoutMs,
  );
}

/**
 * On the main thread at exit: waits (at most `timeoutMs`) until the I/O thread has handled every
 * batch workers posted. Returns the workers' events it has not written, which are lost.
 */
export function drainIoThread(timeoutMs = DELIVERY_TIMEOUT_MS): number {
  const ledger = rt.threadId === 0 ? state.process : undefined;
  if (!ledger || Atomics.load(ledger, IO_EXPECTED) !== 1) return 0;
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    const handled = Atomics.load(ledger, IO_HANDLED);
    const behind = (Atomics.load(ledger, POSTED) - handled) | 0;
    const left = deadline - clock.now();
    if (behind <= 0 || Atomics.load(ledger, IO_LISTENING) < 0 || left <= 0) break;
    Atomics.wait(ledger, IO_HANDLED, handled, left);
  }
  return Math.max(0, unwritten(ledger));
}

/** Workers' events posted and not (yet) written by the I/O thread. */
function unwritten(ledger: Ledger): number {
  return (Atomics.load(ledger, POSTED_EVENTS) - Atomics.load(ledger, IO_WRITTEN_EVENTS)) | 0;
}
