/**
 * The webview's model of one report: the report itself, its names interned into tables, and its
 * time line as typed columns with an index by time. Every picture the webview draws (the wait-for
 * graph at a moment, the timeline's lanes, the details of a node) is read from here.
 *
 * Seeking must be fast at any moment of the retained window, and memory must stay proportional to
 * the report. Snapshots of the active set every k events would answer "what is active at t" in
 * O(k + active), but a snapshot holds every interval active at its moment, so a program that holds
 * many locks for long would multiply its report by the number of snapshots. This index is linear
 * in the report instead: intervals no longer than a threshold L are sorted by start, and at t only
 * those starting in (t - L, t] can be active, found by binary search; the few longer ones (and the
 * ones still open) are kept apart and checked one by one. L is chosen so that at most about a
 * hundredth of the intervals are long, which bounds both parts.
 *
 * Pure: no DOM, so it is tested on plain Node.
 */
import type { Finding, Report, SiteRef } from 'lockscope/report';
import { packTimeline, type PackedTimeline } from '../protocol.js';

/** How many distinct resource colours the stylesheet defines (`--ls-c0` ... `--ls-c7`). */
export const PALETTE_SIZE = 8;

export interface TaskInfo {
  key: string;
  name: string;
  pid: number;
  thread: number;
}

export interface ResourceInfo {
  key: string;
  name: string;
  kind: string;
  cls: string;
  /** The palette index: the same resource has the same colour in the graph and the timeline. */
  colour: number;
}

/** A site as the webview shows it: the packed form has no role, which is worded from the names. */
export type Site = Omit<SiteRef, 'role'> & { role?: string };

export class Model {
  readonly report: Report;
  readonly live: boolean;
  readonly tasks: TaskInfo[] = [];
  readonly resources: ResourceInfo[] = [];
  readonly sites: Site[];
  readonly taskIndex = new Map<string, number>();
  readonly resourceIndex = new Map<string, number>();
  readonly findingsById = new Map<string, Finding>();

  /** The time line, one entry per interval. */
  readonly n: number;
  readonly start: Float64Array;
  /** Infinity while the interval still lasts at the end of the report. */
  readonly end: Float64Array;
  readonly task: Int32Array;
  readonly resource: Int32Array;
  /** 0 hold, 1 wait. */
  readonly kind: Uint8Array;
  readonly site: Int32Array;
  readonly endedBy: Int32Array;

  /** Interval ids sorted by start (ties keep the report's order). */
  readonly byStart: Int32Array;
  /** The retained window: the first start and the last moment the report knows of. */
  readonly first: number;
  readonly last: number;

  readonly #shortIds: Int32Array;
  readonly #shortStarts: Float64Array;
  readonly #longIds: Int32Array;
  readonly #threshold: number;
  #boundaries: Float64Array | undefined;
  #perTask: Int32Array[] | undefined;
  #perResource: Int32Array[] | undefined;

  constructor(report: Report, live: boolean, packed?: PackedTimeline) {
    this.report = report;
    this.live = live;
    const p = packed ?? packTimeline(report.timeline.intervals);
    this.#internNames(report, p);
    this.sites = p.sites;
    for (const f of report.findings) this.findingsById.set(f.id, f);

    const n = p.task.length;
    this.n = n;
    this.start = Float64Array.from(p.start);
    this.end = new Float64Array(n);
    this.task = new Int32Array(n);
    this.resource = new Int32Array(n);
    this.kind = Uint8Array.from(p.kind);
    this.site = Int32Array.from(p.site);
    this.endedBy = new Int32Array(n);
    // The packed tables number only the tasks and resources that have intervals; the model's
    // tables also hold those named elsewhere in the report, so the numbers are translated here.
    const taskMap = p.tasks.map((k) => this.#taskId(k));
    const resourceMap = p.resources.map((k) => this.#resourceId(k));
    let first = Infinity;
    let last = 0;
    for (let i = 0; i < n; i++) {
      const e = p.end[i]!;
      this.end[i] = e < 0 ? Infinity : e;
      this.task[i] = taskMap[p.task[i]!]!;
      this.resource[i] = resourceMap[p.resource[i]!]!;
      const by = p.endedBy[i]!;
      this.endedBy[i] = by < 0 ? -1 : taskMap[by]!;
      const s = this.start[i]!;
      if (s < first) first = s;
      if (s > last) last = s;
      if (e > last) last = e;
    }
    for (const f of report.findings) if (f.at > last) last = f.at;
    this.first = Number.isFinite(first) ? Math.min(first, last) : 0;
    this.last = last;

    this.byStart = sortByStart(this.start);
    const split = splitByDuration(this.byStart, this.start, this.end);
    this.#shortIds = split.shortIds;
    this.#shortStarts = split.shortStarts;
    this.#longIds = split.longIds;
    this.#threshold = split.threshold;
  }

  /** The ids of the intervals active at `t`: started at or before it and not yet ended. */
  activeAt(t: number): number[] {
    const out: number[] = [];
    const from = upperBound(this.#shortStarts, t - this.#threshold);
    const to = upperBound(this.#shortStarts, t);
    for (let j = from; j < to; j++) {
      const id = this.#shortIds[j]!;
      if (this.end[id]! > t) out.push(id);
    }
    for (const id of this.#longIds) {
      if (this.start[id]! <= t && this.end[id]! > t) out.push(id);
    }
    return out;
  }

  /**
   * Every moment something happens, sorted and without repeats: interval starts and ends and
   * findings. Stepping event by event moves between these. Built on first use, since a live view
   * that is never paused does not need it.
   */
  get boundaries(): Float64Array {
    if (!this.#boundaries) {
      const all = new Float64Array(2 * this.n + this.report.findings.length);
      let k = 0;
      for (let i = 0; i < this.n; i++) {
        all[k++] = this.start[i]!;
        const e = this.end[i]!;
        if (e < Infinity) all[k++] = e;
      }
      for (const f of this.report.findings) all[k++] = f.at;
      const sorted = all.subarray(0, k).sort();
      let m = 0;
      for (let i = 0; i < sorted.length; i++) {
        if (i === 0 || sorted[i] !== sorted[m - 1]) sorted[m++] = sorted[i]!;
      }
      this.#boundaries = sorted.slice(0, m);
    }
    return this.#boundaries;
  }

  /** The next moment after `t` at which something happens, or undefined at the end. */
  nextBoundary(t: number): number | undefined {
    const b = this.boundaries;
    const i = upperBound(b, t);
    return i < b.length ? b[i] : undefined;
  }

  /** The last moment before `t` at which something happens, or undefined at the start. */
  previousBoundary(t: number): number | undefined {
    const b = this.boundaries;
    const i = lowerBound(b, t) - 1;
    return i >= 0 ? b[i] : undefined;
  }

  /** How many boundaries are at or before `t`: the "event k of n" of the playback bar. */
  boundaryCount(t: number): number {
    return upperBound(this.boundaries, t);
  }

  /** A task's intervals, sorted by start. */
  intervalsOfTask(task: number): Int32Array {
    this.#perTask ??= group(this.byStart, this.task, this.tasks.length);
    return this.#perTask[task] ?? new Int32Array(0);
  }

  /** A resource's intervals, sorted by start. */
  intervalsOfResource(resource: number): Int32Array {
    this.#perResource ??= group(this.byStart, this.resource, this.resources.length);
    return this.#perResource[resource] ?? new Int32Array(0);
  }

  /** The interval of `task` on `resource` that started at `start`, or -1. */
  findInterval(task: string, resource: string, start: number): number {
    const t = this.taskIndex.get(task);
    const r = this.resourceIndex.get(resource);
    if (t === undefined || r === undefined) return -1;
    for (const id of this.intervalsOfTask(t)) {
      if (this.resource[id] === r && this.start[id] === start) return id;
    }
    return -1;
  }

  /** The interval's site with its role worded ("fork 1 held by flow 2"), or undefined. */
  siteOf(id: number): Site | undefined {
    const s = this.site[id]!;
    if (s < 0) return undefined;
    const task = this.tasks[this.task[id]!]!;
    const resource = this.resources[this.resource[id]!]!;
    const verb = this.kind[id] === 0 ? 'acquires' : 'waits for';
    return { ...this.sites[s]!, role: `${task.name} ${verb} ${resource.name}` };
  }

  #internNames(report: Report, p: PackedTimeline): void {
    // Names come from every part of the report that has them, most specific first: the lanes
    // and the resource list, then the graph, then the findings.
    for (const l of report.timeline.lanes) this.#addTask(l.task, l.name, l.pid, l.thread);
    for (const r of report.resources) this.#addResource(r.key, r.name, r.kind, r.class);
    for (const n of report.graph.nodes) {
      if (n.type === 'task') this.#addTask(n.key, n.label, n.pid, n.thread);
      else this.#addResource(n.key, n.label, n.detail, '');
    }
    for (const f of report.findings) {
      for (const t of f.tasks) this.#addTask(t.key, t.name, t.pid, t.thread);
      for (const r of f.resources) this.#addResource(r.key, r.name, r.kind, r.class);
    }
    for (const k of p.tasks) this.#taskId(k);
    for (const k of p.resources) this.#resourceId(k);
  }

  #addTask(key: string, name: string, pid: number, thread: number): void {
    if (this.taskIndex.has(key)) return;
    this.taskIndex.set(key, this.tasks.push({ key, name, pid, thread }) - 1);
  }

  #addResource(key: string, name: string, kind: string, cls: string): void {
    if (this.resourceIndex.has(key)) return;
    const colour = this.resources.length % PALETTE_SIZE;
    this.resourceIndex.set(key, this.resources.push({ key, name, kind, cls, colour }) - 1);
  }

  /** The id of a task, adding one named by its key when the report does not name it. */
  #taskId(key: string): number {
    if (!this.taskIndex.has(key)) this.#addTask(key, key, pidOf(key), 0);
    return this.taskIndex.get(key)!;
  }

  #resourceId(key: string): number {
    if (!this.resourceIndex.has(key)) this.#addResource(key, key, 'resource', '');
    return this.resourceIndex.get(key)!;
  }
}

/** Keys are `<process>:<id>`; an unknown one still belongs to its process. */
function pidOf(key: string): number {
  const pid = Number.parseInt(key, 10);
  return Number.isFinite(pid) ? pid : 0;
}

function sortByStart(start: Float64Array): Int32Array {
  const n = start.length;
  const ids = new Int32Array(n);
  let sorted = true;
  for (let i = 0; i < n; i++) {
    ids[i] = i;
    if (i > 0 && start[i]! < start[i - 1]!) sorted = false;
  }
  // A report's intervals come from a ring in the order they started, so they are usually sorted
  // already, and the common case costs one pass.
  if (!sorted) ids.sort((a, b) => start[a]! - start[b]! || a - b);
  return ids;
}

function splitByDuration(
  byStart: Int32Array,
  start: Float64Array,
  end: Float64Array,
): { shortIds: Int32Array; shortStarts: Float64Array; longIds: Int32Array; threshold: number } {
  const n = byStart.length;
  const durations = new Float64Array(n);
  for (let i = 0; i < n; i++) durations[i] = end[i]! - start[i]!;
  // The threshold is the duration below which all but about 1% of the intervals fall (open
  // intervals count as infinitely long). At least 64 are allowed to be long, so that a small
  // report with a few long holds keeps its threshold at the short ones.
  const longAllowed = Math.max(64, Math.floor(n / 100));
  let threshold = 0;
  if (n > longAllowed) {
    threshold = select(durations.slice(), n - longAllowed - 1);
    if (!Number.isFinite(threshold)) threshold = 0;
  }
  let shortCount = 0;
  for (let i = 0; i < n; i++) if (durations[i]! <= threshold) shortCount++;
  const shortIds = new Int32Array(shortCount);
  const shortStarts = new Float64Array(shortCount);
  const longIds = new Int32Array(n - shortCount);
  let s = 0;
  let l = 0;
  for (let j = 0; j < n; j++) {
    const id = byStart[j]!;
    if (durations[id]! <= threshold) {
      shortIds[s] = id;
      shortStarts[s++] = start[id]!;
    } else {
      longIds[l++] = id;
    }
  }
  return { shortIds, shortStarts, longIds, threshold };
}

/**
 * The k-th smallest value (0-based), by quickselect: linear on average, where a sort would be
 * n log n, and this runs for every report a live view receives. Reorders `values`.
 */
function select(values: Float64Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i++] = values[j]!;
        values[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return values[k]!;
  }
  return values[k]!;
}

/** Splits ids (in their order) into one list per value of `key`. */
function group(ids: Int32Array, key: Int32Array, groups: number): Int32Array[] {
  const counts = new Int32Array(groups);
  for (const id of ids) counts[key[id]!]!++;
  const out = Array.from(counts, (c) => new Int32Array(c));
  const fill = new Int32Array(groups);
  for (const id of ids) {
    const g = key[id]!;
    out[g]![fill[g]!++] = id;
  }
  return out;
}

/** The first index whose value is greater than `v` (values sorted ascending). */
export function upperBound(values: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first index whose value is at least `v` (values sorted ascending). */
export function lowerBound(values: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
