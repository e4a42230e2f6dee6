/**
 * Lockscope wire protocol, version 1: the only contract between a probe and a collector.
 *
 * A stream is a sequence of JSON objects, one per line (JSON Lines), each with a `t` field naming
 * its message type. A probe writes:
 *
 *   1. exactly one `hello` first (the handshake: protocol version, capabilities, process identity,
 *      and the connection token when it streams to a socket);
 *   2. registry messages (`task`, `resource`, `site`), each sent once, before any event that
 *      refers to its id;
 *   3. `events` batches of operation events, in the order they happened on their thread;
 *   4. `heartbeat` messages with the produced and dropped counters, `idle` when the program has
 *      nothing left to run, and `end` when the process exits.
 *
 * Evolution is additive only. A receiver ignores fields it does not know; message types and
 * operation names are open enums, so a receiver counts the ones it does not know and goes on. A
 * receiver refuses a stream whose `hello.protocol` has a different major version, with a message
 * that says which side to update. Every message is validated where it is received (`decodeLine`,
 * `validateMessage`); the reason for a rejection names the message, the field and what was
 * expected.
 *
 * Time: an `events` message carries `origin`, epoch milliseconds (the probe sends the whole
 * millisecond of the batch's first event), and each event `us`, the whole microseconds since that
 * origin on the recording thread's monotonic clock (`performance.now()`). So event times are
 * monotonic per thread, comparable across the threads of a process (origin + us / 1000), and
 * cheap to encode: a small integer, of a few digits. Receivers take each message's origin as it
 * comes. Control
 * messages (`hello`, `heartbeat`, `idle`, `end`) carry `ts`, epoch milliseconds.
 */

export const PROTOCOL_VERSION = 1;

/**
 * Ids of tasks, resources and sites are unique in a process: each thread numbers its own and
 * folds its thread id into the high bits, `thread * 2 ** 32 + local`. So an id says which thread
 * it belongs to, whichever thread sent it (a parent registers its worker's main flow too).
 */
const THREAD_STRIDE = 2 ** 32;

/** The id of a thread's `local`-th task, resource or site. */
export function idOf(thread: number, local: number): number {
  return thread * THREAD_STRIDE + local;
}

/** The thread an id belongs to. */
export function threadOfId(id: number): number {
  return Math.floor(id / THREAD_STRIDE);
}

/** Capabilities a probe may announce in its `hello`; receivers must ignore unknown ones. */
export const CAPABILITIES = ['events', 'sites', 'stacks', 'heartbeat', 'idle'] as const;

/**
 * Kinds of resource the probe reports. Open: a receiver keeps a kind it does not know as it is
 * (a newer probe's), so a registration's `kind` is a ResourceKind or any other string.
 */
export const RESOURCE_KINDS = [
  'mutex',
  'reentrant-mutex',
  'rwlock',
  'semaphore',
  'condition',
  'event',
  'barrier',
  'waitgroup',
  'channel',
  'task',
  // In shared memory, for worker threads (shared/).
  'shared-mutex',
  'shared-semaphore',
  'shared-condition',
  'shared-barrier',
] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];
/** A registration's kind: one this version knows, or another (from a newer probe). */
export type AnyResourceKind = ResourceKind | (string & {});

/** `n` of a channel `wait` (and `try-failed`) event: which way the task is blocked. */
export const WAIT_RECV = 1;
export const WAIT_SEND = 2;
/**
 * `n` of a channel `wait` event for `join()`: the task waits until every value sent has been
 * marked done (`taskDone()`, recorded as an `add` of -1), which tasks that receive do.
 */
export const WAIT_JOIN = 3;

/**
 * Operation names. The array index is the compact code the recorder stores on the hot path; the
 * name is what travels on the wire, so codes may change between releases but names may not.
 */
export const OPS = [
  'invalid',
  // Lock-like acquisition: `n` is the mode for a read-write lock (1 read, 2 write) or the number
  // of permits for a semaphore.
  'request', // A blocking acquisition could not be granted at once; the task now waits.
  'acquired', // Granted, at once or after a request.
  'released',
  'try-failed', // A non-blocking attempt failed.
  // Waiting on something that is not an acquisition (condition, event, barrier, wait group,
  // channel, join). On a channel, `n` is WAIT_RECV, WAIT_SEND or WAIT_JOIN: what the task
  // waits for.
  'wait',
  'wake',
  'notify', // Condition: `n` waiters were woken.
  'set', // Event set.
  'clear', // Event cleared.
  'arrive', // Barrier: `n` is the arrival index within the generation.
  'pass', // Barrier: generation `n` passed.
  'broken', // Barrier broken.
  'add', // Wait group: counter changed by `n`. Channel: `n` -1, a value marked done (taskDone).
  'send',
  'receive', // `n` is -1 when the channel was closed and drained: nothing was received.
  'close',
  'timeout', // A blocking call gave up after its timeout.
  'cancel', // A blocking call was aborted by its AbortSignal.
  'error', // A blocking call failed for another reason: `n` is an error code, see ERROR_CODES.
  'misuse', // `n` is a misuse code, see MISUSE_CODES.
  'task-start', // `peer` is the parent task.
  'task-end', // `n` is 0 when the task returned, 1 when it threw.
  'join', // The task waits for task `peer` to end; `n` is 1 when the join may give up (a timeout, a signal).
  'guard-collected', // A guard was garbage collected while it still held the resource.
  'thread-start', // A worker thread started; `peer` is its main task.
  'thread-exit', // A worker thread exited; `n` is its exit code.
  // A shared lock was released on behalf of a thread that ended holding it: `peer` is the task
  // that held it, `site` its acquisition site, `n` the dead thread's id.
  'abandoned',
  // A shared lock has been held for at least `n` milliseconds by the same hold: reported by the
  // hold-time watchdog, since a thread stuck in a loop raises no event of its own. `peer` is the
  // holder's task, `site` its acquisition site.
  'held-long',
  // Like `acquired`, but by a non-blocking attempt (tryAcquire): it could not have waited, so
  // the lock-order analysis does not count it as a possible deadlock.
  'try-acquired',
  // The program can no longer reach the resource (it was garbage collected): nothing will use it
  // again, so the analysis may fold it into its class's statistics and forget it. Recorded by the
  // thread's main task.
  'collected',
  // A worker thread was ended from outside (terminated) before it could send its last events:
  // what it did last may be lost. Comes just before its `thread-exit`; `n` is its exit code.
  'thread-cut',
  // The holder handed the guard of its hold on through a promise (an async function returned
  // it): the hold is its caller's to release, not left held when the acquiring function returned.
  'handed-on',
  // Like `request`, for a wait that may end without a grant: it has a timeout or an AbortSignal.
  // A cycle through it may break by itself, so it is not a deadlock for certain.
  'request-bounded',
  // Fail-fast will judge this wait of the task later, once its identity is decided (`n` 1), or
  // has judged it and let it wait (`n` 0); a refusal is an `error` with `deadlock-victim`. A
  // batch may end in between: no cycle through the wait is confirmed until it is judged.
  'judging',
] as const;
export type OpName = (typeof OPS)[number];

/** Meanings of `n` in a `misuse` event. */
export const MISUSE_CODES = [
  'none',
  'release-not-held', // Release of a lock that is not held (double release).
  'release-by-non-owner',
  'over-release', // Semaphore released beyond its initial permits.
  'wait-without-lock', // Condition wait or notify without holding its mutex.
  'unbalanced-release', // Re-entrant mutex released more times than acquired.
  'self-deadlock', // A task re-acquired a non-re-entrant lock it already holds.
  'extra-task-done', // Channel taskDone() called more times than values were received.
] as const;
export type MisuseName = (typeof MISUSE_CODES)[number];

/** Meanings of `n` in an `error` event. */
export const ERROR_CODES = [
  'failed', // The call failed (barrier broken, channel closed, thread error).
  'deadlock-victim', // Fail-fast refused a wait that would have closed a cycle of waits.
] as const;

export interface Hello {
  t: 'hello';
  protocol: number;
  probe: string;
  capabilities: string[];
  pid: number;
  /**
   * The process that started this one (Node's `process.ppid`), so that a session with child
   * processes can say which started which. Optional: older probes do not send it.
   */
  ppid?: number;
  title: string;
  /** The program's main script as Node was given it (`process.argv[1]`), when it has one. */
  script?: string;
  /** The worker thread id (0 for the main thread). */
  thread: number;
  /** Epoch milliseconds when the probe started; every `ts` is on the same clock. */
  ts: number;
  /** The connection token; required on a socket, absent in trace files. */
  token?: string;
}

export interface TaskMessage {
  t: 'task';
  id: number;
  name: string;
  /**
   * `main` for a thread's top level, `spawn` for spawn(), `callback` for a callback the event
   * loop started, `flow` for an un-annotated concurrent async function call.
   */
  kind: string;
  parent?: number;
  /** The task's thread, as its id says: receivers go by the id (see `threadOfId`). */
  thread: number;
  /** Set when the probe could not decide this flow's operations exactly (identity uncertain). */
  uncertain?: boolean;
}

export interface ResourceMessage {
  t: 'resource';
  id: number;
  kind: AnyResourceKind;
  name: string;
  /** Lock class: the construction site, or the `class` option. */
  class: string;
  site?: number;
  /** Capacity of a channel, permits of a semaphore, parties of a barrier. */
  capacity?: number;
  /** Extra configuration, such as a read-write lock's policy. */
  policy?: string;
  /**
   * The resource's key outside the process, for a lock a server keeps (a Redis key, a PostgreSQL
   * advisory lock): made of the server's own identity and the lock's key, so that every process
   * that uses the lock registers it under one key (at most MAX_GLOBAL_KEY characters), whatever
   * host name each used. Receivers treat every process's resources with one key as one resource.
   */
  global?: string;
}

/** The longest `global` key a resource registration may carry. */
export const MAX_GLOBAL_KEY = 512;

export interface SiteMessage {
  t: 'site';
  id: number;
  file: string;
  line: number;
  column: number;
  fn?: string;
  /**
   * Where the enclosing function starts (line and column of the script as it ran, not mapped):
   * tells two frames of one function apart from frames of another, named or not.
   */
  fnAt?: [number, number];
  /** Further frames of the stack, callers first to last, as site ids. */
  stack?: number[];
}

export interface WireEvent {
  /** Microseconds since the batch's `origin`. */
  us: number;
  op: string;
  task: number;
  res?: number;
  site?: number;
  n?: number;
  peer?: number;
}

export interface EventsMessage {
  t: 'events';
  thread: number;
  /** Epoch milliseconds from which this message's event `us` count (see "Time" above). */
  origin: number;
  events: WireEvent[];
}

export interface HeartbeatMessage {
  t: 'heartbeat';
  ts: number;
  produced: number;
  dropped: number;
}

export interface IdleMessage {
  t: 'idle';
  ts: number;
}

export interface EndMessage {
  t: 'end';
  ts: number;
  exitCode: number;
  produced: number;
  dropped: number;
}

/** Any message of the wire protocol. */
export type Message =
  | Hello
  | TaskMessage
  | ResourceMessage
  | SiteMessage
  | EventsMessage
  | HeartbeatMessage
  | IdleMessage
  | EndMessage;

export type MessageType = Message['t'];

/** A message of a type this receiver does not know: counted, not fatal. */
export interface UnknownMessage {
  t: string;
  unknown: true;
}

export type DecodeResult =
  { ok: true; message: Message | UnknownMessage } | { ok: false; error: string };

export { decodeLine, isUnknownMessage, validateMessage } from './validate.js';

/**
 * Checks a handshake against what this receiver speaks. Returns an actionable message when the
 * versions cannot talk, or null when they can.
 */
export function checkHandshake(hello: Hello): string | null {
  if (hello.protocol === PROTOCOL_VERSION) return null;
  if (hello.protocol > PROTOCOL_VERSION) {
    return (
      `The program's lockscope probe ${hello.probe} speaks protocol ${hello.protocol}, but this ` +
      `collector understands only protocol ${PROTOCOL_VERSION}. Update the Lockscope extension ` +
      `or CLI, or install a lockscope package of the same release as the collector.`
    );
  }
  return (
    `The program's lockscope probe ${hello.probe} speaks protocol ${hello.protocol}, older than ` +
    `this collector's protocol ${PROTOCOL_VERSION}. Update the program's lockscope dependency ` +
    `(npm install lockscope@latest).`
  );
}

const OP_SET: ReadonlySet<string> = new Set(OPS);

/** True when this receiver knows the operation name; unknown ones are counted, not fatal. */
export function isKnownOp(op: string): op is OpName {
  return OP_SET.has(op);
}
