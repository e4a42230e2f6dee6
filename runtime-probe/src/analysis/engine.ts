/**
 * The analysis engine: protocol messages in, findings out. It keeps the live state of every
 * process (tasks, resources, holders, waiters), the wait-for graph with incremental cycle
 * detection, the lock-order graph, and contention statistics.
 *
 * It is pure: no I/O and no clock. Time is what the events say, so a recorded trace always gives
 * the same findings, and heartbeats are what move time forward while nothing else happens.
 * Messages are expected to be validated already (StreamSession); references to tasks, resources
 * or sites the stream never registered are tolerated and shown by number.
 */
import type { Message, WireEvent } from '../protocol.js';
import { OrderGraph, type OrderEdgeState } from './order.js';
import {
  ProcessModel,
  ResourceState,
  Role,
  Stats,
  TaskState,
  taskRef,
  resourceRef,
  siteKey,
  siteRef,
  threadOf,
  unique,
} from './model.js';
import { Spans } from './timeline.js';
import { Transitions } from './transitions.js';
import { UNCERTAIN_MARK, uncertaintyOf } from './certainty.js';
import { judgeIdle } from './idle.js';
import {
  buildReport,
  liveState,
  siteStats,
  streamReport,
  type EngineView,
  type StreamedReport,
} from './projections.js';
import { Cycles } from './cycles.js';
import type { FindingContext, FindingDraft } from './findings/context.js';
import { reportAbandoned } from './findings/abandoned-lock.js';
import { instanceNode, observeOrder } from './findings/lock-order-inversion.js';
import { reportLongHold } from './findings/long-hold.js';
import { SharedResources } from './shared-resources.js';
import type { LiveState, ContentionStats, Finding, Report, SiteRef } from './types.js';

export interface AnalysisOptions {
  /** A hold longer than this many milliseconds is a `long-hold` finding. */
  longHoldMs: number;
  /** A task that waits while a resource is granted this many times to others is starving. */
  starvationGrants: number;
  /** This many failed try-locks in a row, on both sides, make a livelock. */
  livelockRetries: number;
  /** The time line keeps at most this many intervals, so that memory stays bounded. */
  maxIntervals: number;
  /**
   * Processes that have ended stay in the report up to this many; older ones are forgotten (their
   * findings stay), so that a session that sees thousands of short runs stays bounded.
   */
  maxEndedProcesses: number;
}

/**
 * What an event of a thread that has ended may not do when it arrives after the end: start a
 * hold or a wait, or start a task again.
 */
const LOCK_OPS = new Set(['request', 'request-bounded', 'acquired', 'try-acquired']);
const STARTS = new Set([...LOCK_OPS, 'wait', 'join', 'task-start']);

export const DEFAULT_OPTIONS: AnalysisOptions = {
  longHoldMs: 1000,
  starvationGrants: 50,
  livelockRetries: 10,
  maxIntervals: 200_000,
  maxEndedProcesses: 64,
};

/**
 * Incremental analysis of one or more event streams (one per process). Feed it with `accept`;
 * read `findings` or take a `report()` at any time.
 */
export class Analyzer {
  readonly options: AnalysisOptions;
  readonly findings: Finding[] = [];
  /** Called once for each new finding, as soon as it is final. */
  onFinding: ((f: Finding) => void) | undefined;

  readonly #reported = new Set<string>();
  /** The process model of each stream. */
  readonly #processes = new Map<object, ProcessModel>();
  readonly #byPid = new Map<number, ProcessModel>();
  /** How many processes each pid has been, to keep their keys apart. */
  readonly #pids = new Map<number, number>();
  readonly #models: ProcessModel[] = [];
  /** Processes whose every stream has closed, oldest first. */
  readonly #ended: ProcessModel[] = [];
  readonly #order = new OrderGraph<ResourceState, TaskState>();
  readonly #inversionEdges = new Set<OrderEdgeState<ResourceState, TaskState>>();
  readonly #cycleEdges = new Set<string>();
  readonly #siteStats = new Map<string, { stats: Stats; site: SiteRef }>();
  readonly #spans: Spans;
  /** Resources every process knows by one key: locks a server keeps (shared-resources.ts). */
  readonly #shared = new SharedResources();
  #origin: number | undefined = undefined;
  /** The time of the latest event or heartbeat, in microseconds since the origin. */
  #now = 0;

  /** What the finding modules see of the engine (findings/context.ts). */
  readonly #ctx: FindingContext;
  /** What the projections read (projections.ts). */
  readonly #view: EngineView;
  /** The lock and wait transitions (transitions.ts). */
  readonly #tx: Transitions;
  /** The cycles of the wait-for graph (cycles.ts). */
  readonly #cycles: Cycles;

  constructor(options: Partial<AnalysisOptions> = {}) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
    this.#spans = new Spans(Math.max(0, this.options.maxIntervals));
    this.#ctx = {
      options: this.options,
      site: (proc, id, act, role) => siteRef(proc, id, act, role),
      siteKey: (proc, id) => siteKey(proc, id),
      reported: (id) => this.#reported.has(id),
      emit: (draft) => this.#emit(draft),
      cycleEdges: this.#cycleEdges,
      inversionEdges: this.#inversionEdges,
    };
    this.#cycles = new Cycles(this.#ctx);
    this.#tx = new Transitions({
      ctx: this.#ctx,
      spans: this.#spans,
      siteStats: this.#siteStats,
      pending: this.#cycles.pending,
      findCycle: (start, definite) => this.#cycles.find(start, definite),
      observeOrder: (t, r, site, at) => observeOrder(this.#ctx, this.#order, t, r, site, at),
    });
    this.#view = {
      models: this.#models,
      findings: this.findings,
      spans: this.#spans,
      origin: () => this.#origin,
      order: this.#order,
      inversionEdges: this.#inversionEdges,
      cycleEdges: this.#cycleEdges,
      siteStats: this.#siteStats,
      site: (proc, id, act, role) => siteRef(proc, id, act, role),
    };
  }

  /** Events received from every process so far. */
  get events(): number {
    let n = 0;
    for (const p of this.#models) n += p.events;
    return n;
  }

  /** Microseconds since the origin of the report's time line. */
  get now(): number {
    return this.#now;
  }

  /** Takes one validated message of the stream `stream` (any object that names the stream). */
  accept(stream: object, m: Message): void {
    if (m.t === 'hello') {
      this.#origin ??= m.ts;
      // One process may report on several streams (its worker threads' events reach a
      // collector through an I/O thread with a connection of its own): they share one model, so
      // that a cycle across threads is seen whole. A stream cut off and opened again (a probe
      // reconnects after a stall) has the same pid and start time, and goes on with its
      // process; a pid seen again after its process ended is a new process, and so is one with
      // another start time (two hosts, or two containers, each with its own pid 1).
      let proc = this.#byPid.get(m.pid);
      if (proc?.cut && proc.exitCode === undefined && proc.startTs === m.ts) proc.cut = false;
      if (!proc || proc.exitCode !== undefined || proc.cut || proc.startTs !== m.ts) {
        const n = this.#pids.get(m.pid) ?? 0;
        this.#pids.set(m.pid, n + 1);
        proc = new ProcessModel(n ? `${m.pid}-${n + 1}` : String(m.pid), m.pid, m.title, m.ts);
        proc.ppid = m.ppid;
        proc.script = m.script;
        this.#byPid.set(m.pid, proc);
        this.#models.push(proc);
      }
      proc.threads.add(m.thread);
      proc.streams++;
      this.#processes.set(stream, proc);
      return;
    }
    const proc = this.#processes.get(stream);
    if (!proc) throw new Error('the stream sent a message before its hello');
    switch (m.t) {
      case 'task': {
        const t = proc.task(m.id);
        // A worker's probe calls its main flow `thread N`; the Worker wrapper on the parent's
        // side registers the same task under the name the program gave it, which is better.
        const generic = m.kind === 'main' && /^thread \d+$/.test(m.name);
        if (!(generic && t.kind === 'main' && t.name !== m.name)) t.name = m.name;
        if (m.uncertain) t.uncertain = true;
        if (t.uncertain && !t.name.endsWith(UNCERTAIN_MARK)) t.name += UNCERTAIN_MARK;
        t.kind = m.kind;
        // The thread is the id's (set with the task), not the message's: a parent registers its
        // worker's main flow too, and an older probe sent its own thread for it. Taken from the
        // message, whichever registration came last would decide, and a worker's exit would
        // end its parent's thread.
        proc.threads.add(t.thread);
        return;
      }
      case 'resource': {
        if (this.#shared.join(proc, m)) return;
        const r = proc.resource(m.id);
        // A registration is sent again after a gap; one that changes a resource's kind (a mutex
        // into a semaphore) is not the same resource, and its state would no longer make sense.
        if (r.kind !== 'unknown' && r.kind !== m.kind) {
          proc.conflicts++;
          return;
        }
        r.register(m.name, m.kind, m.class);
        r.site = m.site ?? 0;
        r.policy = m.policy;
        this.#shared.adopt(r, m);
        return;
      }
      case 'site':
        proc.sites.set(m.id, m);
        return;
      case 'events': {
        const base = (m.origin - this.#origin!) * 1000;
        proc.threads.add(m.thread);
        proc.events += m.events.length;
        for (const e of m.events) this.#event(proc, e, base + e.us);
        this.#cycles.confirm(this.#tx);
        return;
      }
      case 'heartbeat':
        // The I/O thread's stream counts only what it dropped and produced nothing itself.
        if (m.produced > 0 || proc.produced === 0) proc.produced = m.produced;
        proc.dropStream(stream, m.dropped);
        this.#advance(proc, (m.ts - this.#origin!) * 1000);
        // A cycle through this process may have waited for it to tell of this time (cycles.ts).
        this.#cycles.confirm(this.#tx);
        return;
      case 'idle':
        this.#advance(proc, (m.ts - this.#origin!) * 1000);
        this.#cycles.confirm(this.#tx);
        this.#idle(proc);
        return;
      case 'end':
        proc.exitCode = m.exitCode;
        proc.produced = m.produced;
        proc.dropStream(stream, m.dropped);
        this.#advance(proc, (m.ts - this.#origin!) * 1000);
        // Its waits end with it: a cycle that a wait might still have broken is reported as it
        // stood (bounded).
        this.#tx.broken.overdue(this.#now, 0, proc);
        this.#shared.leave(proc, this.#tx, this.#now);
        return;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Events

  #event(proc: ProcessModel, e: WireEvent, at: number): void {
    if (at > this.#now) this.#now = at;
    if (at > proc.toldUntil) proc.toldUntil = at;
    if (e.op === 'collected') {
      // Before the lookups below, which would make a state for a resource already forgotten.
      const r = e.res !== undefined ? proc.resources.get(e.res) : undefined;
      if (r && !this.#shared.collected(proc, e.res!, r)) this.#forget(r);
      return;
    }
    // An event of a thread that has ended arrived after its end (see ProcessModel.ended): it
    // happened before, and whatever it started is over. Releases and the rest still apply.
    // Checked before the task is looked up, which would make a state for a task already gone.
    if (STARTS.has(e.op) && proc.lifetimes.hasEnded(threadOf(e.task))) return;
    const t = proc.task(e.task);
    const r = e.res !== undefined ? proc.resource(e.res) : undefined;
    const site = e.site ?? 0;
    // A resource the stream never registered takes the part its operations show.
    if (r?.kind === 'unknown' && LOCK_OPS.has(e.op)) r.role = Role.Lock;
    switch (e.op) {
      case 'request':
      case 'request-bounded':
        if (r) this.#tx.request(t, r, site, at, e.n ?? 0, e.op === 'request-bounded');
        return;
      case 'acquired':
        if (r) this.#tx.acquired(t, r, site, at, e.n ?? 0, false);
        return;
      case 'try-acquired':
        if (r) this.#tx.acquired(t, r, site, at, e.n ?? 0, true);
        return;
      case 'released':
        if (r) this.#tx.released(t, r, at, e.n ?? 0);
        return;
      case 'try-failed':
        if (r) this.#tx.tryFailed(t, r, site || t.trySite, at);
        return;
      case 'wait':
        if (r) this.#tx.startWait(t, r, site, at, r.kind === 'channel' ? (e.n ?? 0) : 0);
        return;
      case 'wake':
      case 'timeout':
      case 'cancel':
      case 'error':
        // Only an error's `n` is an error code (a timeout's is its length in milliseconds).
        if (r) {
          const code = e.op === 'error' ? (e.n ?? 0) : 0;
          this.#tx.failed(t, r, at, code, e.op === 'timeout' || e.op === 'cancel');
        }
        return;
      case 'send':
      case 'receive':
        if (r) {
          if (this.#tx.waitsOn(t, r)) this.#tx.endWait(t, at, undefined);
          // A receive woken by close (n -1) took nothing: it makes no receiver of the task.
          if (e.op === 'send') r.signalledBy(t, site);
          else if ((e.n ?? 0) >= 0) r.receivedBy(t, site);
        }
        return;
      case 'notify':
      case 'set':
      case 'arrive':
      case 'pass':
      case 'close':
        if (r) r.signalledBy(t, site);
        return;
      case 'add':
        // A channel's `add` is a taskDone(), by a task already counted as a receiver, which is
        // who a join counts on: it signals no receiver.
        if (r && (e.n ?? 0) < 0 && r.kind !== 'channel') r.signalledBy(t, site);
        return;
      case 'join': {
        const target = e.peer !== undefined ? proc.task(e.peer) : undefined;
        if (!r || !target) return;
        this.#tx.startWait(t, r, site, at, 0);
        t.joinTarget = target;
        t.waitBounded = e.n === 1;
        const cycle = this.#cycles.find(t, true);
        if (cycle) this.#cycles.pending.push({ cycle, at });
        return;
      }
      case 'misuse':
        this.#tx.misuse(t, r, site, e.n ?? 0, at);
        return;
      case 'task-start':
        t.ended = false;
        return;
      case 'task-end':
        this.#tx.taskEnded(t, at, (e.n ?? 0) !== 0 ? 'threw' : 'returned');
        return;
      case 'thread-start':
        if (e.peer !== undefined) proc.lifetimes.started(threadOf(e.peer), t.thread);
        return;
      case 'thread-cut':
        proc.lifetimes.cut(t.thread);
        return;
      case 'thread-exit':
        // The end of every task of the thread. The probe records it once the thread's own events
        // have been delivered (and, under a collector, written by the I/O thread), so they come
        // before it; one that still comes after it starts nothing (see STARTS).
        this.#tx.threadExited(proc, t.thread, at);
        return;
      case 'judging':
        if (r && this.#tx.waitsOn(t, r)) t.judging = e.n === 1;
        return;
      case 'handed-on': {
        const hold = r?.holders.get(t);
        if (hold) hold.handedOn = true;
        return;
      }
      case 'guard-collected':
        if (r) {
          reportAbandoned(this.#ctx, r, t, r.holders.get(t)?.site ?? site, at, 'guard-collected');
        }
        return;
      case 'abandoned':
        // Released from the lock word on behalf of thread `n`, which has ended. Its other holds
        // wait for its thread-exit: this event may come from another thread, ahead of the ended
        // thread's last events (a release among them).
        if (e.n !== undefined && e.n > 0) proc.lifetimes.ended(e.n);
        if (r)
          this.#tx.abandoned(r, e.peer !== undefined ? proc.tasks.get(e.peer) : t, e, site, at);
        return;
      case 'held-long': {
        // A hold of a thread that has ended ended with it (a probe's watchdog skips those; a
        // trace of an older one may not).
        if (!r || (e.peer !== undefined && proc.lifetimes.hasEnded(threadOf(e.peer)))) return;
        const holder = e.peer !== undefined ? proc.task(e.peer) : t;
        reportLongHold(this.#ctx, r, holder, site, (e.n ?? 0) * 1000, at);
        return;
      }
      default:
        // Operations of a newer probe are skipped; the session counts them.
        return;
    }
  }

  /** Forgets a resource the program no longer reaches (see ProcessModel.forgetResource). */
  #forget(r: ResourceState): void {
    if (r.proc.forgetResource(r))
      this.#order.forget(instanceNode(r), (e) => this.#inversionEdges.has(e));
  }

  /**
   * Moves time forward without an event: checks holds against the long-hold limit, and kept
   * cycles against it too.
   */
  #advance(proc: ProcessModel, at: number): void {
    if (at > this.#now) this.#now = at;
    if (at > proc.toldUntil) proc.toldUntil = at;
    const limit = this.options.longHoldMs * 1000;
    this.#tx.broken.overdue(at, limit);
    for (const r of proc.heldNow()) {
      for (const [t, h] of r.holders) {
        if (at - h.since >= limit) reportLongHold(this.#ctx, r, t, h.site, at - h.since, at);
      }
    }
  }

  /** The program has nothing left to run: whatever still waits, waits forever. */
  #idle(proc: ProcessModel): void {
    judgeIdle(this.#ctx, proc, this.#now, (t) => this.#cycles.find(t, false));
  }

  // ---------------------------------------------------------------------------------------------
  // Output

  #emit(f: FindingDraft): void {
    if (this.#reported.has(f.id)) return;
    this.#reported.add(f.id);
    const uncertainty = uncertaintyOf(f);
    const finding: Finding = {
      id: f.id,
      kind: f.kind,
      ...(f.pattern ? { pattern: f.pattern } : {}),
      // A finding the data cannot support definitely is never an error (see Certainty).
      severity: uncertainty.length > 0 && f.severity === 'error' ? 'warning' : f.severity,
      title: f.title,
      message: f.message,
      tasks: unique(f.tasks).map(taskRef),
      resources: unique(f.resources).map(resourceRef),
      sites: f.sites.filter((s) => s.line > 0),
      fix: f.fix,
      at: Math.round(f.at),
      ...(f.cycle ? { cycle: f.cycle } : {}),
      certainty: uncertainty.length > 0 ? 'uncertain' : 'exact',
      ...(uncertainty.length > 0 ? { uncertainty } : {}),
    };
    this.findings.push(finding);
    this.onFinding?.(finding);
  }

  /**
   * The stream has closed (the connection ended). When every stream of its process has closed
   * without an `end` message, the process died mid-stream: it is shown as ended, cut off.
   */
  endStream(stream: object): void {
    const proc = this.#processes.get(stream);
    if (!proc) return;
    this.#processes.delete(stream);
    if (--proc.streams > 0) return;
    if (proc.exitCode === undefined) proc.cut = true;
    this.#shared.leave(proc, this.#tx, this.#now);
    this.#ended.push(proc);
    while (this.#ended.length > this.options.maxEndedProcesses) {
      const old = this.#ended.shift()!;
      // A process cut off and connected again goes on (and is listed again when it ends).
      const i = this.#models.indexOf(old);
      if (old.streams > 0 || i < 0 || this.#ended.includes(old)) continue;
      this.#models.splice(i, 1);
      if (this.#byPid.get(old.pid) === old) this.#byPid.delete(old.pid);
      old.release();
    }
  }

  /**
   * The live state, for a tree view: each process with its threads, its tasks (blocked ones
   * first) and the resources that are held or waited for; at most `limit` of each per process.
   */
  state(limit = 500): LiveState {
    return liveState(this.#models, limit);
  }

  /** The state of the analysis as plain data: findings, statistics, graph and time line. */
  report(options: { maxIntervals?: number } = {}): Report {
    return buildReport(this.#view, options);
  }

  /** The report, with the time line's intervals made as they are read (see streamReport). */
  streamedReport(options: { maxIntervals?: number } = {}): StreamedReport {
    return streamReport(this.#view, options);
  }

  /** Contention at each acquisition site: what CodeLens needs, without a whole report. */
  siteStats(): ContentionStats[] {
    return siteStats(this.#view);
  }
}
