/**
 * The analysis's state model: per process, its tasks, resources and their holds, waits and
 * signallers, as the events left them. Plain data with small helpers and no decisions: the
 * wait-for semantics are in waitfor.ts, the findings in the Analyzer.
 */
import { threadOfId, type SiteMessage } from '../protocol.js';
import { Stats } from './stats.js';
import { SmallMap } from './small-map.js';
import { Lifetimes } from './threads.js';
import type {
  ContentionStats,
  ResourceRef,
  SiteAct,
  SiteRef,
  TaskRef,
  TimelineLane,
} from './types.js';

export { Stats };

/** How a kind of resource takes part in the wait-for graph. */
export const Role = {
  /** Owned by its holders: a waiter waits for exactly them (mutexes, read-write locks). */
  Lock: 0,
  /** Permits: any task may release one, so holders are only likely wakers (semaphores). */
  Permits: 1,
  /** Woken by whoever signals it: sends, notifies, sets, arrives (channels, conditions...). */
  Signal: 2,
  /** A task's end: the joiner waits for exactly that task. */
  Join: 3,
} as const;
export type Role = (typeof Role)[keyof typeof Role];

export function roleOf(kind: string): Role {
  switch (kind) {
    case 'mutex':
    case 'reentrant-mutex':
    case 'rwlock':
    case 'shared-mutex':
      return Role.Lock;
    case 'semaphore':
    case 'shared-semaphore':
      return Role.Permits;
    case 'task':
      return Role.Join;
    default:
      return Role.Signal;
  }
}

/** Distinct registrations a process model keeps one ResourceInfo for. */
const MAX_INFOS = 4096;
/** At most this many signallers are remembered per resource, as likely wakers. */
export const MAX_SIGNALLERS = 64;

export interface Hold {
  count: number;
  /** For a read-write lock, the mode held (1 read, 2 write); 0 otherwise. */
  mode: number;
  site: number;
  since: number;
  /** Its span on the time line (see Spans), or -1. */
  span: number;
  /** Set when its guard was handed on to a caller (see findings/left-held.ts). */
  handedOn?: true;
}

/** The two kinds of span on the time line. */
export const HOLD = 0;
export const WAIT = 1;

export class TaskState {
  readonly holds = new SmallMap<ResourceState, Hold>();
  ended = false;
  waitRes: ResourceState | undefined = undefined;
  /**
   * The other channels of a select(): one wait on all its cases, ended by whichever case fires
   * (or by the timeout or abort, recorded on every case).
   */
  waitAlso: ResourceState[] | undefined = undefined;
  /** The direction of each case in `waitAlso` (see `waitDir`). */
  waitAlsoDir: number[] | undefined = undefined;
  waitSite = 0;
  waitSince = 0;
  /** The resource's grant count when the wait began, for starvation. */
  waitGrants = 0;
  /**
   * For a channel wait, what it waits for (protocol's WAIT_RECV, WAIT_SEND, WAIT_JOIN); for an
   * RWLock, the mode.
   */
  waitDir = 0;
  /** Set when the wait may end without a grant (a timeout, an AbortSignal): `request-bounded`. */
  waitBounded = false;
  /** Set while fail-fast has yet to judge the wait (`judging`): no cycle through it is sure. */
  judging = false;
  waitSpan = -1;
  /** The task's lane on the time line, made with its first span. */
  lane: TimelineLane | undefined = undefined;
  /** For a join: the task waited for. */
  joinTarget: TaskState | undefined = undefined;
  tryRes: ResourceState | undefined = undefined;
  tryFails = 0;
  trySite = 0;
  starved: ResourceState | undefined = undefined;
  /** Stamp of the last search that visited this task. */
  mark = 0;
  /** Set once the task is part of a reported deadlock or blocked-forever finding. */
  explained = false;
  /** Set when the probe could not decide this task's operations exactly (its name ends ` ?`). */
  uncertain = false;

  constructor(
    readonly proc: ProcessModel,
    readonly id: number,
    readonly key: string,
    public name: string,
    public kind: string,
    readonly thread: number,
  ) {}

  get blocked(): boolean {
    return this.waitRes !== undefined;
  }
}

const NO_TASKS: ReadonlySet<TaskState> = new Set();
const NO_SITES: ReadonlyMap<TaskState, number> = new Map();

/**
 * What a registration says of a resource: its name, kind and class, with its process. Resources
 * registered alike share one (see ProcessModel.info), and the time line keeps it, with the key,
 * after the resource's own state is forgotten.
 */
export interface ResourceInfo {
  readonly name: string;
  readonly kind: string;
  readonly cls: string;
  readonly proc: ProcessModel;
}

/**
 * A resource's state. It is its own contention statistics (it extends Stats rather than holding
 * one): a program with a million short-lived locks has a million of these, and every object
 * saved per resource is tens of megabytes.
 */
export class ResourceState extends Stats {
  readonly holders = new SmallMap<TaskState, Hold>();
  /** Set while the resource is in its process's `held` list (pruned lazily, see ProcessModel). */
  listed = false;
  role: Role;
  grants = 0;
  lastReleaser: TaskState | undefined = undefined;
  // The collections most resources never use are made on first write: a program with a million
  // short-lived mutexes must not pay for a million empty tables.
  #waiters: Set<TaskState> | undefined = undefined;
  #signallers: Map<TaskState, number> | undefined = undefined;
  #receivers: Map<TaskState, number> | undefined = undefined;
  abandoned = false;
  /** A read-write lock's policy (`writer-preferring` unless registered otherwise). */
  policy: string | undefined = undefined;

  /** Its name, kind and class. */
  info: ResourceInfo;

  constructor(
    readonly proc: ProcessModel,
    readonly id: number,
    name: string,
    public site: number,
  ) {
    super();
    // Not shared: until its registration arrives, a resource is named by its number.
    this.info = { name, kind: 'unknown', cls: '', proc };
    this.role = roleOf('unknown');
  }

  /** Its key in reports, made when asked for: a million resources need not hold a million. */
  get key(): string {
    return resourceKey(this.proc, this.id);
  }

  get name(): string {
    return this.info.name;
  }

  get kind(): string {
    return this.info.kind;
  }

  get cls(): string {
    return this.info.cls;
  }

  /** The tasks waiting for it. */
  get waiters(): ReadonlySet<TaskState> {
    return this.#waiters ?? NO_TASKS;
  }

  addWaiter(t: TaskState): void {
    (this.#waiters ??= new Set<TaskState>()).add(t);
  }

  removeWaiter(t: TaskState): void {
    this.#waiters?.delete(t);
  }

  /** Tasks that sent, notified, set, arrived or counted down: who might wake a waiter. */
  get signallers(): ReadonlyMap<TaskState, number> {
    return this.#signallers ?? NO_SITES;
  }

  /** The tasks that received from it (a channel): who might take what a sender offers. */
  get receivers(): ReadonlyMap<TaskState, number> {
    return this.#receivers ?? NO_SITES;
  }

  /** Remembers a signaller (see `remember`). */
  signalledBy(t: TaskState, site: number): void {
    remember((this.#signallers ??= new Map<TaskState, number>()), t, site);
  }

  /** Remembers a receiver (see `remember`). */
  receivedBy(t: TaskState, site: number): void {
    remember((this.#receivers ??= new Map<TaskState, number>()), t, site);
  }

  /** Takes a registration's name, kind and class. */
  register(name: string, kind: string, cls: string): void {
    this.info = this.proc.info(name, kind, cls);
    this.role = roleOf(kind);
  }
}

/**
 * The statistics of the resources of one class that the program no longer uses (collected), kept
 * in aggregate once their own state is forgotten.
 */
export interface ForgottenClass {
  name: string;
  kind: string;
  resources: number;
  stats: Stats;
}

export class ProcessModel {
  readonly tasks = new Map<number, TaskState>();
  readonly resources = new Map<number, ResourceState>();
  readonly sites = new Map<number, SiteMessage>();
  readonly siteStats = new Map<number, Stats>();
  readonly threads = new Set<number>();
  /**
   * The tasks of each thread (by the thread folded into their ids), so that a thread's end
   * reaches them without a scan of all tasks.
   */
  readonly #byThread = new Map<number, Set<TaskState>>();
  /** Which threads have ended, how, and which started which (threads.ts). */
  readonly lifetimes = new Lifetimes();
  /**
   * Resources held now, for the long-hold scan on heartbeats, and some that were: a resource is
   * added when first held and removed only by a scan that finds it free (`heldNow`), so that the
   * hot path never deletes from a Set (see SmallMap for why that matters).
   */
  readonly held = new Set<ResourceState>();

  /** The held resources, dropping the ones found free. */
  *heldNow(): IterableIterator<ResourceState> {
    for (const r of this.held) {
      if (r.holders.size === 0) {
        this.held.delete(r);
        r.listed = false;
      } else yield r;
    }
  }
  exitCode: number | undefined = undefined;
  /** Open streams; a process whose streams all closed without an `end` was cut off. */
  streams = 0;
  /**
   * How far its streams have told of it, on the report's time line: its latest event or
   * heartbeat. A cycle through another process is confirmed once that process has told of the
   * time the cycle formed (cycles.ts): before, a batch of its still on the way may end it.
   */
  toldUntil = 0;
  cut = false;
  produced = 0;
  dropped = 0;
  events = 0;
  /** Registrations ignored because they changed a resource's kind. */
  conflicts = 0;
  /**
   * One ResourceInfo for each distinct registration: a million resources made at one place share
   * one instead of holding a million copies of their class. Bounded, so that unique names do not
   * grow it without end.
   */
  readonly #infos = new Map<string, ResourceInfo>();

  info(name: string, kind: string, cls: string): ResourceInfo {
    const key = `${kind}\0${cls}\0${name}`;
    let info = this.#infos.get(key);
    if (!info) {
      info = { name, kind, cls, proc: this };
      if (this.#infos.size < MAX_INFOS) this.#infos.set(key, info);
    }
    return info;
  }

  /** Forgotten resources, by class. */
  readonly forgotten = new Map<string, ForgottenClass>();

  /**
   * Lets go of the state of a process the analysis forgets: the time line and the lock order may
   * still name it, and keep only its name and sites.
   */
  release(): void {
    this.tasks.clear();
    this.resources.clear();
    this.held.clear();
    this.siteStats.clear();
    this.forgotten.clear();
    this.#byThread.clear();
    this.lifetimes.clear();
  }

  /**
   * Forgets a resource the program can no longer reach, keeping its statistics in its class's
   * aggregate. One still held or waited for is kept: its state explains a finding.
   */
  forgetResource(r: ResourceState): boolean {
    if (r.holders.size > 0 || r.waiters.size > 0 || this.resources.get(r.id) !== r) return false;
    this.resources.delete(r.id);
    if (r.listed) this.held.delete(r);
    if (r.acquisitions > 0) {
      let agg = this.forgotten.get(r.cls);
      if (!agg) {
        agg = { name: r.name, kind: r.kind, resources: 0, stats: new Stats() };
        this.forgotten.set(r.cls, agg);
      }
      agg.resources++;
      agg.stats.merge(r);
    }
    return true;
  }

  /** What each stream of the process says it dropped; `dropped` is the largest total. */
  readonly #droppedBy = new Map<object, number>();

  /**
   * A stream's count of what it dropped. The main thread's `end` counts the I/O thread's losses
   * too, so the process's figure is the larger of that and the sum of the streams' own counts.
   */
  dropStream(stream: object, dropped: number): void {
    this.#droppedBy.set(stream, dropped);
    let sum = 0;
    for (const n of this.#droppedBy.values()) sum += n;
    this.dropped = Math.max(this.dropped, sum, dropped);
  }

  /** The pid of the process that started it, as its hello said. */
  ppid: number | undefined;
  /** Its main script, as its hello said. */
  script: string | undefined;

  constructor(
    readonly prefix: string,
    readonly pid: number,
    readonly title: string,
    /** When its probe started (`hello.ts`): with the pid, who the process is. */
    readonly startTs: number,
  ) {}

  task(id: number): TaskState {
    let t = this.tasks.get(id);
    if (!t) {
      const thread = threadOf(id);
      t = new TaskState(this, id, `${this.prefix}:${id}`, `task ${id}`, 'unknown', thread);
      // A task first seen after its thread ended has ended too.
      if (this.lifetimes.hasEnded(thread)) t.ended = true;
      this.tasks.set(id, t);
      let same = this.#byThread.get(thread);
      if (!same) this.#byThread.set(thread, (same = new Set()));
      same.add(t);
    }
    return t;
  }

  /** Forgets a task that has ended and holds nothing. */
  forget(t: TaskState): void {
    this.tasks.delete(t.id);
    const thread = threadOf(t.id);
    const same = this.#byThread.get(thread);
    if (same?.delete(t) && same.size === 0) this.#byThread.delete(thread);
  }

  /** The tasks of a thread, as a list (the caller may forget them as it goes). */
  tasksOf(thread: number): TaskState[] {
    return [...(this.#byThread.get(thread) ?? [])];
  }

  resource(id: number): ResourceState {
    let r = this.resources.get(id);
    if (!r) {
      r = new ResourceState(this, id, `resource ${id}`, 0);
      this.resources.set(id, r);
    }
    return r;
  }
}

/** The thread a task id names: ids fold the thread into their high bits. */
export const threadOf = threadOfId;

/**
 * Remembers a signaller, most recent last, with the last site it was seen at: the probe records
 * the site of only some calls (sync.ts, `siteFor`), so a call without one keeps the one before.
 * When the map is full, a task that has ended makes room, or else the oldest: a channel fed by
 * many short-lived producers must still know its live one.
 */
function remember(map: Map<TaskState, number>, t: TaskState, site: number): void {
  const known = site || (map.get(t) ?? 0);
  map.delete(t);
  if (map.size >= MAX_SIGNALLERS) {
    let victim: TaskState | undefined;
    for (const k of map.keys()) {
      if (k.ended) {
        victim = k;
        break;
      }
    }
    map.delete(victim ?? map.keys().next().value!);
  }
  map.set(t, known);
}

export function lastSite(r: ResourceState, t: TaskState): number {
  return r.signallers.get(t) ?? r.receivers.get(t) ?? 0;
}

export function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

export function names(rs: { name: string }[]): string {
  return unique(rs.map((r) => r.name))
    .sort()
    .join(',');
}

/** A resource's key in reports: its process's prefix and its id. */
export function resourceKey(proc: ProcessModel, id: number): string {
  return `${proc.prefix}:r${id}`;
}

export function taskRef(t: TaskState): TaskRef {
  const ref: TaskRef = { key: t.key, name: t.name, pid: t.proc.pid, thread: t.thread };
  if (t.uncertain) ref.uncertain = true;
  return ref;
}

export function resourceRef(r: ResourceState): ResourceRef {
  return { key: r.key, name: r.name, kind: r.kind, class: r.cls };
}

export function statsOf(key: string, name: string, kind: string, s: Stats): ContentionStats {
  return {
    key,
    name,
    kind,
    acquisitions: s.acquisitions,
    contended: s.contended,
    wait: s.waitSummary(),
    hold: s.holdSummary(),
  };
}

/** A site of the process as the report shows it (unknown sites have line 0). */
export function siteRef(proc: ProcessModel, id: number, act: SiteAct, role: string): SiteRef {
  const s = id ? proc.sites.get(id) : undefined;
  if (!s) return { file: '', line: 0, column: 0, act, role };
  const ref: SiteRef = { file: s.file, line: s.line, column: s.column, act, role };
  if (s.fn) ref.fn = s.fn;
  if (s.stack?.length) {
    const stack: NonNullable<SiteRef['stack']> = [];
    for (const callerId of s.stack) {
      const c = proc.sites.get(callerId);
      if (c)
        stack.push(
          c.fn
            ? { file: c.file, line: c.line, column: c.column, fn: c.fn }
            : { file: c.file, line: c.line, column: c.column },
        );
    }
    ref.stack = stack;
  }
  return ref;
}

/** `file:line:column` of a site, for ids; empty when unknown. */
export function siteKey(proc: ProcessModel, id: number): string {
  const s = id ? proc.sites.get(id) : undefined;
  return s ? `${s.file}:${s.line}:${s.column}` : '';
}
