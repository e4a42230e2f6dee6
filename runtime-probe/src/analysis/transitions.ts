/**
 * The state model's transitions: how each lock and wait event changes holders, waiters, the time
 * line and the contention statistics. The engine dispatches events here; what a transition may
 * reveal (a cycle to confirm, a lock order, a finding) goes back through TransitionDeps.
 */
import {
  HOLD,
  Role,
  Stats,
  WAIT,
  type Hold,
  type ProcessModel,
  type ResourceState,
  type TaskState,
} from './model.js';
import type { FindingContext } from './findings/context.js';
import { reportAbandoned } from './findings/abandoned-lock.js';
import { AvertedDeadlocks } from './findings/averted.js';
import { BrokenCycles } from './findings/broken.js';
import type { PendingCycle } from './cycles.js';
import { ERROR_CODES, MISUSE_CODES } from '../protocol.js';
import { reportMisuse } from './findings/misuse.js';
import { checkLivelock } from './findings/livelock.js';
import { reportLongHold } from './findings/long-hold.js';
import { reportSelfDeadlock } from './findings/self-deadlock.js';
import { checkStarvation } from './findings/starvation.js';
import type { Spans } from './timeline.js';
import { siteWords, type AbandonCause } from './wording.js';
import type { SiteRef } from './types.js';

export interface TransitionDeps {
  readonly ctx: FindingContext;
  readonly spans: Spans;
  /** Contention per acquisition place (`file:line:column`), across threads and processes. */
  readonly siteStats: Map<string, { stats: Stats; site: SiteRef }>;
  /** Cycles found while a batch is read, confirmed at its end. */
  readonly pending: PendingCycle[];
  findCycle(start: TaskState, definite: boolean): TaskState[] | undefined;
  /** A lock taken while holding others: an edge of the lock-order graph. */
  observeOrder(t: TaskState, r: ResourceState, site: number, at: number): void;
}

/** A wait for a lock the task holds, to be confirmed a self-deadlock. */
interface Suspect {
  t: TaskState;
  r: ResourceState;
  site: number;
  at: number;
  modes?: { held: number; asked: number };
  hold: Hold | undefined;
}

export class Transitions {
  readonly #deps: TransitionDeps;
  readonly #averted: AvertedDeadlocks;
  /** Cycles through waits that may give up, judged when they break or stand too long. */
  readonly broken: BrokenCycles;
  /**
   * Waits for a lock the task holds, read in this batch: self-deadlocks unless fail-fast refused
   * them in the same batch (then they are averted), so they are confirmed at the batch's end.
   */
  readonly #suspects: Suspect[] = [];

  constructor(deps: TransitionDeps) {
    this.#deps = deps;
    this.#averted = new AvertedDeadlocks(deps.ctx, (t) => deps.findCycle(t, true));
    this.broken = new BrokenCycles(deps.ctx, deps.pending);
  }

  /** `bounded`: the wait may end without a grant (a timeout, an AbortSignal). */
  request(
    t: TaskState,
    r: ResourceState,
    site: number,
    at: number,
    n: number,
    bounded = false,
  ): void {
    if (r.role === Role.Lock && r.kind !== 'reentrant-mutex') {
      const own = r.holders.get(t);
      // A second shared hold of a read-write lock is not a deadlock by itself; a read under one's
      // own write lock, or a write under one's own read lock, is (the mode held decides).
      if (own && !(r.kind === 'rwlock' && n === 1 && own.mode === 1)) {
        this.#suspects.push({ t, r, site, at, modes: { held: own.mode, asked: n }, hold: own });
      }
    }
    // For a read-write lock, `n` is the mode (1 read, 2 write): kept for the starvation advice.
    this.startWait(t, r, site, at, r.kind === 'rwlock' ? n : 0);
    t.waitBounded = bounded;
    if (r.role === Role.Lock) {
      const cycle = this.#deps.findCycle(t, true);
      if (cycle) this.#deps.pending.push({ cycle, at });
      this.#averted.waited(t, r, at);
    }
  }

  /** A misuse (`code` from MISUSE_CODES); re-taking a lock one holds is a self-deadlock to confirm. */
  misuse(t: TaskState, r: ResourceState | undefined, site: number, code: number, at: number): void {
    if (r && MISUSE_CODES[code] === 'self-deadlock') {
      this.#suspects.push({ t, r, site: site || t.waitSite, at, hold: r.holders.get(t) });
    } else reportMisuse(this.#deps.ctx, t, r, site, code, at);
  }

  /**
   * Reports the self-deadlocks of this batch whose waits still stand; one that fail-fast has yet
   * to judge waits for the judgement, in a later batch.
   */
  confirmSelfDeadlocks(): void {
    for (const suspect of this.#suspects.splice(0)) {
      const { t, r, site, at, modes, hold } = suspect;
      if (t.waitRes !== r || t.ended) continue;
      if (t.judging) {
        this.#suspects.push(suspect);
        continue;
      }
      const { waitBounded } = t;
      reportSelfDeadlock(this.#deps.ctx, t, r, hold?.site ?? 0, site, at, modes, hold, waitBounded);
    }
  }

  /** A blocking call failed (`code` from ERROR_CODES); a refused fail-fast wait is a finding. */
  failed(t: TaskState, r: ResourceState, at: number, code: number, gaveUp = false): void {
    if (!this.waitsOn(t, r)) return;
    if (gaveUp) {
      this.broken.gaveUp(t, at);
      // A self-deadlock of this batch that gave up: it stood until now (a warning, bounded).
      for (let i = this.#suspects.length - 1; i >= 0; i--) {
        if (this.#suspects[i]!.t !== t || t.waitRes !== this.#suspects[i]!.r) continue;
        const [{ site, at: since, modes, hold }] = this.#suspects.splice(i, 1) as [Suspect];
        reportSelfDeadlock(this.#deps.ctx, t, r, hold?.site ?? 0, site, since, modes, hold, true);
      }
    }
    if (ERROR_CODES[code] === 'deadlock-victim') this.#averted.refused(t, r, at);
    this.endWait(t, at, undefined);
  }

  /**
   * A shared lock was released on behalf of thread `e.n`, which ended holding it; `named` is the
   * holder the lock word names. That may be the provisional id of a flow its thread decided
   * later (identity.ts): a hold of that thread's that the model knows is the same hold.
   */
  abandoned(
    r: ResourceState,
    named: TaskState | undefined,
    e: { n?: number; peer?: number },
    site: number,
    at: number,
  ): void {
    const holder =
      (named && r.holders.has(named) ? named : undefined) ??
      [...r.holders.keys()].find((h) => h.thread === e.n) ??
      named ??
      r.proc.task(e.peer!);
    reportAbandoned(this.#deps.ctx, r, holder, site, at, 'thread-ended');
    this.dropHold(holder, r, at);
  }

  startWait(t: TaskState, r: ResourceState, site: number, at: number, dir: number): void {
    // Every wait ends with an event, and a blocked flow cannot start another one: a second channel
    // wait before the first ended is the next case of the same select.
    if (t.waitRes?.kind === 'channel' && r.kind === 'channel' && t.waitSite === site) {
      (t.waitAlso ??= []).push(r);
      (t.waitAlsoDir ??= []).push(dir);
      r.addWaiter(t);
      return;
    }
    if (t.waitRes) this.endWait(t, at, undefined);
    t.waitRes = r;
    t.waitSite = site;
    t.waitSince = at;
    t.waitGrants = r.grants;
    t.waitDir = dir;
    t.joinTarget = undefined;
    r.addWaiter(t);
    t.waitSpan = this.interval(t, r, WAIT, at, site);
  }

  /** True when `t` waits on `r`, alone or as one case of a select. */
  waitsOn(t: TaskState, r: ResourceState): boolean {
    return t.waitRes === r || (t.waitAlso !== undefined && t.waitAlso.includes(r));
  }

  endWait(t: TaskState, at: number, endedBy: TaskState | undefined): void {
    const r = t.waitRes!;
    r.removeWaiter(t);
    if (t.waitAlso) {
      for (const other of t.waitAlso) other.removeWaiter(t);
      t.waitAlso = undefined;
      t.waitAlsoDir = undefined;
    }
    if (t.waitSpan >= 0) {
      this.#deps.spans.end(t.waitSpan, at, endedBy && endedBy !== t ? endedBy.key : undefined);
    }
    t.waitSpan = -1;
    t.waitRes = undefined;
    t.joinTarget = undefined;
    t.waitBounded = false;
    t.judging = false;
    t.starved = undefined;
    // A finding explained that wait; a later one is judged afresh.
    t.explained = false;
  }

  acquired(
    t: TaskState,
    r: ResourceState,
    site: number,
    at: number,
    n: number,
    attempt: boolean,
  ): void {
    let waited = -1;
    if (t.waitRes === r) {
      waited = at - t.waitSince;
      site ||= t.waitSite;
      this.endWait(t, at, r.lastReleaser);
    }
    r.acquired(waited);
    if (t.tryRes === r) {
      t.tryRes = undefined;
      t.tryFails = 0;
    }
    r.grants++;
    const siteStats = site ? this.siteStatsFor(t.proc, site, r) : undefined;
    siteStats?.acquired(waited);
    const hold = r.holders.get(t);
    // A nested entry of a re-entrant mutex is not a new hold; permits add up.
    if (hold && (r.kind === 'reentrant-mutex' || r.role === Role.Permits)) {
      hold.count += r.role === Role.Permits ? Math.max(1, n) : 1;
    } else if (hold) {
      hold.count++;
    } else {
      // A try-lock cannot wait, so taking it while holding others orders nothing (as lockdep).
      if (r.role === Role.Lock && t.holds.size > 0 && !attempt)
        this.#deps.observeOrder(t, r, site, at);
      const h: Hold = {
        count: r.role === Role.Permits ? Math.max(1, n) : 1,
        mode: r.kind === 'rwlock' ? n : 0,
        site,
        since: at,
        span: this.interval(t, r, HOLD, at, site),
      };
      r.holders.set(t, h);
      t.holds.set(r, h);
      // A lock a server keeps (shared-resources.ts) is listed by every process that holds it:
      // the process that registered it first may release it and end before this hold is scanned.
      if (!r.listed || r.proc !== t.proc) {
        r.listed = true;
        t.proc.held.add(r);
      }
    }
    if (r.waiters.size) checkStarvation(this.#deps.ctx, r, at);
  }

  released(t: TaskState, r: ResourceState, at: number, n: number): void {
    // Only a release that someone waits for hands the resource over (the time line's arrow from
    // the releaser); remembering every releaser would keep ended tasks alive as long as the locks
    // they used.
    r.lastReleaser = r.waiters.size > 0 ? t : undefined;
    let holder = t;
    let hold = r.holders.get(t);
    if (!hold && r.role === Role.Permits) {
      // Any task may release a permit: count it against some holder, if any.
      const [first] = r.holders.entries();
      if (first) [holder, hold] = first;
    }
    if (!hold) return;
    // A semaphore's `n` is the number of permits released at once.
    hold.count -= r.role === Role.Permits ? Math.max(1, n) : 1;
    if (hold.count > 0) return;
    const held = at - hold.since;
    r.held(held);
    if (hold.site) this.siteStatsFor(t.proc, hold.site, r)?.held(held);
    if (held >= this.#deps.ctx.options.longHoldMs * 1000)
      reportLongHold(this.#deps.ctx, r, holder, hold.site, held, at);
    this.dropHold(holder, r, at);
  }

  dropHold(t: TaskState, r: ResourceState, at: number): void {
    const hold = r.holders.get(t);
    if (!hold) return;
    if (hold.span >= 0) this.#deps.spans.end(hold.span, at);
    r.holders.delete(t);
    t.holds.delete(r);
  }

  tryFailed(t: TaskState, r: ResourceState, site: number, at: number): void {
    if (r.role !== Role.Lock && r.role !== Role.Permits) return;
    if (t.tryRes === r) t.tryFails++;
    else {
      t.tryRes = r;
      t.tryFails = 1;
    }
    if (site) t.trySite = site;
    checkLivelock(this.#deps.ctx, t, r, at);
  }

  /**
   * The task has ended: its wait is over, and a lock it still holds was abandoned. `cause` says
   * how (it returned, threw, or its thread ended); `lost`, that the thread was ended from outside
   * and its last events may be missing, which makes the abandonment uncertain.
   */
  taskEnded(t: TaskState, at: number, cause: AbandonCause, lost = false): void {
    t.ended = true;
    if (t.waitRes) this.endWait(t, at, undefined);
    for (const [r, hold] of [...t.holds]) {
      if (r.role !== Role.Lock) continue;
      reportAbandoned(this.#deps.ctx, r, t, hold.site, at, cause, lost);
    }
    // Forget a finished task that holds nothing, so that a long run of short tasks keeps memory
    // bounded; the time line keeps its name on its lane.
    if (t.holds.size === 0) t.proc.forget(t);
  }

  /**
   * A thread has exited, and with it every thread it started that still ran (Node ends a
   * worker's workers with it): their tasks have ended. Those ended from outside may not have
   * sent their last events, so what they seem to have left is uncertain.
   */
  threadExited(proc: ProcessModel, thread: number, at: number): void {
    for (const [th, lost] of proc.lifetimes.exited(thread)) {
      for (const t of proc.tasksOf(th)) this.#threadEnded(t, at, lost);
    }
  }

  /**
   * The thread of `t` has ended: so has `t`, and what it held it holds no more (a shared lock was
   * released on its behalf, a lock of the thread's own is out of every other thread's reach, and
   * a permit is gone with it). Nothing of the task is left to take part in a later finding.
   */
  #threadEnded(t: TaskState, at: number, lost: boolean): void {
    this.taskEnded(t, at, 'thread-ended', lost);
    for (const r of t.holds.keys()) this.dropHold(t, r, at);
    t.proc.forget(t);
  }

  siteStatsFor(proc: ProcessModel, site: number, r: ResourceState): Stats | undefined {
    // Looked up by id on the hot path; several ids can name one place (threads intern their own).
    let stats = proc.siteStats.get(site);
    if (stats) return stats;
    const key = this.#deps.ctx.siteKey(proc, site);
    if (!key) return undefined;
    let entry = this.#deps.siteStats.get(key);
    if (!entry) {
      entry = {
        stats: new Stats(),
        site: this.#deps.ctx.site(proc, site, 'acquires', siteWords.acquires(r.name)),
      };
      this.#deps.siteStats.set(key, entry);
    }
    stats = entry.stats;
    proc.siteStats.set(site, stats);
    return stats;
  }

  /** Records a span on the time line, which keeps the most recent ones. */
  interval(t: TaskState, r: ResourceState, type: number, at: number, site: number): number {
    if (this.#deps.spans.capacity === 0) {
      this.#deps.spans.seq++;
      return -1;
    }
    t.lane ??= { task: t.key, name: t.name, pid: t.proc.pid, thread: t.thread };
    return this.#deps.spans.add(t.lane, r.id, r.info, type, at, site);
  }
}
