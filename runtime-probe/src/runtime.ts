/**
 * The probe's process-wide state.
 *
 * A process may load both the ESM and the CJS build of the probe (an ESM app with a CJS
 * dependency that also uses lockscope). Both builds must agree on task ids, the recorder and the
 * sinks, so every piece of mutable state lives in one object stored on `globalThis` under a
 * registered symbol; whichever build loads first creates it, the other adopts it.
 */
import { threadId } from 'node:worker_threads';
import { idOf, type Message } from './protocol.js';
import type { ExploreHooks } from './explore/hooks.js';

export const PROBE_VERSION = '0.1.0';

/**
 * A flow: a spawned task, the main flow of a thread, a callback the event loop started, or an
 * un-annotated concurrent async function call (see identity.ts for the definition).
 */
export interface Flow {
  id: number;
  name: string;
  kind: 'main' | 'flow' | 'spawn' | 'callback';
  /**
   * The flow that started it, which may be provisional (runs.ts): its id is resolved when this
   * flow is first registered, and kept in `parentId` instead, so that flows do not keep their
   * ancestors alive.
   */
  parent: Flow | undefined;
  parentId?: number;
  /**
   * Set while this flow is provisional, and after it turned out to belong to another flow: it
   * acts with the identity of `alias` (see runs.ts).
   */
  alias: Flow | undefined;
  /** True while the flow waits in a blocking call of the probe. */
  blocked: boolean;
  /** The sink generation its registration was last sent in. */
  sentIn: number;
  /**
   * Set for flows the identity rules found: their name is completed from the function of their
   * first recorded site (`dine #3`) when they are first registered.
   */
  autoName?: boolean;
  /**
   * The id of the resource of this flow's last call that asked for a site, and its uses in a
   * row (an id: the record itself must stay free to be collected, collected.ts).
   */
  siteRes?: number;
  siteUses?: number;
  /** Set when the identity rules could not decide this flow's operations exactly. */
  uncertain?: boolean;
  /**
   * Set on a provisional flow when a flush sent its operations, under its alias, before its run
   * was decided (runs.ts).
   */
  sentEarly?: boolean;
  /** The flow's context, made once (identity.ts). */
  ctx?: Ctx;
}

/**
 * The identity context a run and its continuations act in (runs.ts). A callback's context makes
 * its flow only when the callback uses the probe; `parent` is the flow that queued it, if known.
 */
export interface Ctx {
  flow: Flow | undefined;
  parent: Flow | undefined;
  /** What a `.then` callback made in this context resumes in (runs.ts), made once. */
  thenMark?: { thenOf: Ctx };
  /** Set for code that started before identity was tracked: its flow is marked uncertain. */
  unseen?: boolean;
}

export interface ResourceRec {
  id: number;
  kind: string;
  name: string;
  cls: string;
  site: number;
  capacity: number | undefined;
  policy: string | undefined;
  /** Its key outside the process, for a lock a server keeps (ResourceMessage.global). */
  global?: string;
  sentIn: number;
  /** Set once its collection is watched for (collected.ts). */
  watched?: boolean;
}

export type StackMode = 'off' | 'blocking' | 'all';

/** The probe's settings: the environment's, then `configure()`'s. */
export interface ProbeConfig {
  /** Which operations capture a call stack for their source site. */
  stacks: StackMode;
  /** How many user frames a captured stack keeps. */
  stackDepth: number;
  /** Events buffered before a batch is flushed synchronously. */
  batchSize: number;
  /** Bytes a socket may have queued before further batches are dropped. */
  socketHighWater: number;
  /** Interval of heartbeat messages in milliseconds (0 turns them off). */
  heartbeatMs: number;
  /**
   * A shared lock held this long (in milliseconds) by one hold is reported by the hold-time
   * watchdog, which runs on the main thread once a Worker has started (0 turns it off).
   */
  holdWarnMs: number;
  /**
   * Fail-fast deadlock detection: an acquisition of a Mutex, ReentrantMutex or RWLock, or a
   * SharedMutex.acquireSync() without a timeout, that would close a cycle of waits rejects with a
   * DeadlockError instead of waiting (see primitives/fail-fast.ts and shared/fail-fast.ts).
   */
  failFast: boolean;
  /**
   * Globs of library code, whose frames a finding's sites skip (library.ts); relative ones are
   * relative to the working folder. Added to those of the program's package.json.
   */
  library: readonly string[];
}

/** Statistics of one sink, as `stats()` reports them. */
export interface SinkStats {
  kind: string;
  target: string;
  sent: number;
  dropped: number;
  inFlight: number;
  error: string | undefined;
}

/** The stats of a sink that hands on everything it takes at once: nothing dropped or pending. */
export function handedOnStats(
  sink: { kind: string; target: string },
  sent: number,
  error?: string,
): SinkStats {
  return { kind: sink.kind, target: sink.target, sent, dropped: 0, inFlight: 0, error };
}

/**
 * A destination for recorded messages. Sinks never throw into the program and never block it for
 * long; what they cannot deliver they count as dropped.
 */
export interface Sink {
  readonly kind: string;
  readonly target: string;
  /**
   * Whether the main thread delivers the batches its workers forward to this sink. A socket sink
   * does not: the I/O thread streams them on a connection of its own (transports/thread.ts).
   */
  readonly takesForwarded: boolean;
  /**
   * True once the sink can never deliver again (its collector refused or closed the connection,
   * its file could not be opened). When every sink is retired the probe stops recording, so a
   * program whose collector is gone does not pay for events nobody will receive.
   */
  readonly retired?: boolean;
  /**
   * Delivers one flushed batch. The batch's accessors read the recorder's buffer, so a sink must
   * call them before it returns.
   */
  write(batch: Batch): void;
  /** Delivers a control message (heartbeat, idle) built for this sink. */
  control(message: Message): void;
  /** Called at process exit with the sink's final `end` message; must be synchronous. */
  close(end: Message): void;
  stats(): SinkStats;
}

/** One flushed batch, in the two forms sinks use; each is built only if a sink asks for it. */
export interface Batch {
  /** Registry messages first, then the events message. */
  messages(): Message[];
  /**
   * The same as JSON Lines in UTF-8, each line ending with a newline. The bytes may be the
   * recorder's own, reused by the next batch: a sink that keeps them after it returns copies them.
   */
  bytes(): Uint8Array;
  /** How many operation events the batch carries. */
  readonly eventCount: number;
}

export interface Runtime {
  version: string;
  threadId: number;
  nextLocalId: number;
  mainFlow: Flow;
  rootCtx: Ctx;
  config: ProbeConfig;
  /** True when at least one sink is attached, so operations are recorded. */
  recording: boolean;
  /** Bumped whenever a sink is attached, so registries are sent again to the new sink. */
  sinkGeneration: number;
  sinks: Sink[];
  produced: number;
  /** Problems with the environment or a sink, reported once each on stderr. */
  warned: Set<string>;
  lifecycleInstalled: boolean;
  lastIdleProduced: number;
  startTs: number;
  /**
   * The modules' shared state (`shared()`), by name. In a map rather than as properties of this
   * object: properties added one by one would turn it into a dictionary, and every read of
   * `recording` or `config` on the hot path into a hash lookup.
   */
  states: Map<string, unknown>;
  /** The controlled scheduler while `lockscope explore` runs the program (explore/hooks.ts). */
  explore: ExploreHooks | undefined;
}

// v2: the shared states moved into `states`; a v1 runtime of an older build is not this one.
const KEY = Symbol.for('lockscope.runtime.v2');

/** Ids are unique in the process: the thread id is folded into the high bits. */
export function newId(rt: Runtime): number {
  return idOf(rt.threadId, rt.nextLocalId++);
}

export const DEFAULT_CONFIG: ProbeConfig = {
  stacks: 'blocking',
  stackDepth: 4,
  batchSize: 8192,
  socketHighWater: 8 * 1024 * 1024,
  heartbeatMs: 1000,
  holdWarnMs: 10_000,
  failFast: false,
  library: [],
};

function createRuntime(): Runtime {
  const mainFlow: Flow = {
    id: 0,
    name: threadId === 0 ? 'main' : `thread ${threadId}`,
    kind: 'main',
    parent: undefined,
    alias: undefined,
    blocked: false,
    sentIn: -1,
  };
  const rt: Runtime = {
    version: PROBE_VERSION,
    threadId,
    nextLocalId: 1,
    mainFlow,
    rootCtx: { flow: mainFlow, parent: undefined },
    config: { ...DEFAULT_CONFIG },
    recording: false,
    sinkGeneration: 0,
    sinks: [],
    produced: 0,
    warned: new Set(),
    lifecycleInstalled: false,
    lastIdleProduced: -1,
    startTs: performance.timeOrigin + performance.now(),
    states: new Map(),
    explore: undefined,
  };
  mainFlow.id = newId(rt);
  return rt;
}

function adopt(): Runtime {
  const holder = globalThis as unknown as Record<symbol, Runtime | undefined>;
  const existing = holder[KEY];
  if (existing) return existing;
  const created = createRuntime();
  holder[KEY] = created;
  return created;
}

/** The one runtime of this thread, shared by every build of the probe loaded in it. */
export const rt: Runtime = adopt();

/**
 * State of one module that must be shared by every build of the probe in this thread, kept in
 * the runtime object's `states` by name.
 */
export function shared<T>(name: string, init: () => T): T {
  let value = rt.states.get(name) as T | undefined;
  if (value === undefined) {
    value = init();
    rt.states.set(name, value);
  }
  return value;
}

/** Reports a problem once on stderr; the probe never throws into the program for these. */
export function warnOnce(key: string, message: string): void {
  if (rt.warned.has(key)) return;
  rt.warned.add(key);
  process.stderr.write(`lockscope: ${message}\n`);
}
