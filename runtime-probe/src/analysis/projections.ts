/**
 * The engine's projections: the live state for a tree view, and the report (findings, processes,
 * contention statistics, the graph as it stands, the time line). Read-only over the engine's
 * state, which it passes as an EngineView.
 */
import {
  HOLD,
  resourceRef,
  statsOf,
  threadOf,
  type ProcessModel,
  type ResourceState,
  type Stats,
  type TaskState,
} from './model.js';
import type { OrderEdgeState, OrderGraph } from './order.js';
import type { Spans } from './timeline.js';
import { siteWords } from './wording.js';
import {
  REPORT_VERSION,
  type ContentionStats,
  type Finding,
  type GraphEdge,
  type GraphNode,
  type LiveState,
  type ProcessSummary,
  type Report,
  type ResourceRef,
  type SiteAct,
  type SiteRef,
  type TimelineInterval,
} from './types.js';

/** What the projections read of the engine. */
export interface EngineView {
  readonly models: readonly ProcessModel[];
  readonly findings: readonly Finding[];
  readonly spans: Spans;
  /** Epoch milliseconds of the first hello, once there is one. */
  origin(): number | undefined;
  readonly order: OrderGraph<ResourceState, TaskState>;
  readonly inversionEdges: ReadonlySet<OrderEdgeState<ResourceState, TaskState>>;
  readonly cycleEdges: ReadonlySet<string>;
  readonly siteStats: ReadonlyMap<string, { stats: Stats; site: SiteRef }>;
  site(proc: ProcessModel, id: number, act: SiteAct, role: string): SiteRef;
}

/**
 * The live state, for a tree view: each process with its threads, its tasks (blocked ones
 * first) and the resources that are held or waited for; at most `limit` of each per process.
 */
export function liveState(models: readonly ProcessModel[], limit: number): LiveState {
  return {
    processes: models.map((proc) => {
      // With a limit of 0 the caller wants the processes only: skip the sort and the scans.
      const tasks =
        limit > 0 ? [...proc.tasks.values()].filter((t) => !t.ended && t.kind !== 'unknown') : [];
      tasks.sort((a, b) => Number(b.blocked) - Number(a.blocked) || a.id - b.id);
      const resources =
        limit > 0
          ? [...new Set(proc.resources.values())].filter(
              (r) => r.holders.size > 0 || r.waiters.size > 0,
            )
          : [];
      return {
        key: proc.prefix,
        pid: proc.pid,
        ...(proc.ppid !== undefined ? { ppid: proc.ppid } : {}),
        title: proc.title,
        ...(proc.script !== undefined ? { script: proc.script } : {}),
        status: proc.exitCode !== undefined ? 'exited' : proc.cut ? 'cut' : 'running',
        ...(proc.exitCode !== undefined ? { exitCode: proc.exitCode } : {}),
        produced: proc.produced,
        dropped: proc.dropped,
        threads: [...proc.threads].sort((a, b) => a - b),
        tasks: tasks.slice(0, limit).map((t) => ({
          key: t.key,
          name: t.name,
          thread: t.thread,
          state: t.blocked ? 'blocked' : 'running',
          ...(t.waitRes ? { waitingFor: t.waitRes.name } : {}),
          holds: [...t.holds.keys()].map((r) => r.name),
        })),
        tasksOmitted: Math.max(0, tasks.length - limit),
        resources: resources.slice(0, limit).map((r) => ({
          key: r.key,
          name: r.name,
          kind: r.kind,
          holders: [...r.holders.keys()].map((t) => t.name),
          waiters: [...r.waiters].map((t) => t.name),
        })),
      };
    }),
  };
}

/**
 * A report whose long lists (the time line's intervals, the resources, their statistics) are made
 * one at a time, as they are written.
 */
export type StreamedReport = Omit<Report, 'timeline' | 'resources' | 'stats'> & {
  timeline: Omit<Report['timeline'], 'intervals'> & { intervals: Iterable<TimelineInterval> };
  stats: { resources: Iterable<ContentionStats>; sites: ContentionStats[] };
  resources: Iterable<ResourceRef>;
};

/** A list made when it is gone through, as often as it is. */
function lazy<T>(make: () => Iterable<T>): Iterable<T> {
  return { [Symbol.iterator]: () => make()[Symbol.iterator]() };
}

/** The state of the analysis as plain data: findings, statistics, graph and time line. */
export function buildReport(v: EngineView, options: { maxIntervals?: number }): Report {
  const r = streamReport(v, options);
  return {
    ...r,
    stats: { resources: [...r.stats.resources], sites: r.stats.sites },
    timeline: { ...r.timeline, intervals: [...r.timeline.intervals] },
    resources: [...r.resources],
  };
}

/**
 * The report with its long lists made on demand: hundreds of thousands of intervals and
 * resources are written without ever being held whole.
 */
export function streamReport(v: EngineView, options: { maxIntervals?: number }): StreamedReport {
  const spans = v.spans.last(options.maxIntervals ?? Infinity);
  const processes: ProcessSummary[] = [];
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  for (const proc of v.models) {
    processes.push({
      pid: proc.pid,
      ...(proc.ppid !== undefined ? { ppid: proc.ppid } : {}),
      title: proc.title,
      ...(proc.script !== undefined ? { script: proc.script } : {}),
      threads: [...proc.threads].sort((a, b) => a - b),
      ...(proc.exitCode !== undefined ? { exitCode: proc.exitCode } : {}),
      produced: proc.produced,
      dropped: proc.dropped,
      events: proc.events,
    });
    const shown = new Set<ResourceState>();
    for (const t of proc.tasks.values()) {
      if (t.ended || (!t.blocked && t.holds.size === 0)) continue;
      nodes.push({
        key: t.key,
        type: 'task',
        label: t.name,
        detail: t.blocked ? 'blocked' : 'running',
        pid: proc.pid,
        thread: t.thread,
      });
      if (t.waitRes) {
        shown.add(t.waitRes);
        const key = `${t.key}>${t.waitRes.key}`;
        edges.push({
          source: t.key,
          target: t.waitRes.key,
          type: 'waits',
          cycle: v.cycleEdges.has(key),
        });
      }
      for (const r of t.holds.keys()) {
        shown.add(r);
        const key = `${r.key}>${t.key}`;
        edges.push({
          source: r.key,
          target: t.key,
          type: 'holds',
          cycle: v.cycleEdges.has(key),
        });
      }
    }
    for (const r of shown) {
      nodes.push({
        key: r.key,
        type: 'resource',
        label: r.name,
        detail: r.kind,
        pid: proc.pid,
        thread: threadOf(r.id),
      });
    }
  }
  const resourceStats = lazy(function* () {
    for (const proc of v.models) {
      for (const [id, r] of proc.resources) {
        // A resource other processes share by key is listed once, with the process it began in
        // and under the id it began with (the process may know it by other ids too).
        if (r.acquisitions > 0 && r.proc === proc && r.id === id)
          yield statsOf(r.key, r.name, r.kind, r);
      }
      for (const [cls, agg] of proc.forgotten) {
        const entry = statsOf(`${proc.prefix}:class:${cls}`, agg.name, agg.kind, agg.stats);
        entry.resources = agg.resources;
        yield entry;
      }
    }
  });
  const resources = lazy(function* () {
    for (const proc of v.models) {
      for (const [id, r] of proc.resources) {
        if (r.proc === proc && r.id === id) yield resourceRef(r);
      }
    }
    // Spans outlive the resources the program dropped: the time line still names them.
    const named = new Set<string>();
    for (const seq of spans) {
      const i = v.spans.index(seq);
      const info = v.spans.resInfos[i]!;
      const id = v.spans.resIds[i]!;
      if (info.proc.resources.has(id) && v.models.includes(info.proc)) continue;
      const key = v.spans.resourceKey(i);
      if (named.has(key)) continue;
      named.add(key);
      yield { key, name: info.name, kind: info.kind, class: info.cls };
    }
  });
  const order = [...v.order.edges()].map((e) => ({
    from: e.first.from.key,
    to: e.first.to.key,
    inversion: v.inversionEdges.has(e),
  }));
  const sites = [...v.siteStats.entries()].map(([key, { stats, site }]) =>
    statsOf(key, site.fn ? `${site.fn} (${key})` : key, 'site', stats),
  );
  return {
    version: REPORT_VERSION,
    origin: v.origin() ?? 0,
    findings: v.findings.slice(),
    processes,
    stats: { resources: resourceStats, sites },
    graph: { nodes, edges, order },
    timeline: {
      lanes: [...new Set(spans.map((seq) => v.spans.lanes[v.spans.index(seq)]!))],
      intervals: {
        *[Symbol.iterator]() {
          for (const seq of spans) yield intervalOf(v, seq);
        },
      },
      omitted: v.spans.seq - spans.length,
    },
    resources,
  };
}

function intervalOf(v: EngineView, seq: number): TimelineInterval {
  const sp = v.spans;
  const i = sp.index(seq);
  const lane = sp.lanes[i]!;
  const res = { key: sp.resourceKey(i), ...sp.resInfos[i]! };
  const type = sp.types[i] === HOLD ? 'hold' : 'wait';
  const iv: TimelineInterval = {
    task: lane.task,
    resource: res.key,
    type,
    start: Math.round(sp.starts[i]!),
  };
  if (!Number.isNaN(sp.ends[i])) iv.end = Math.round(sp.ends[i]!);
  const site = sp.sites[i]!;
  if (site) {
    const s = v.site(
      res.proc,
      site,
      type === 'hold' ? 'acquired' : 'waits',
      siteWords.timeline(lane.name, type === 'hold', res.name),
    );
    if (s.line) iv.site = s;
  }
  const endedBy = sp.endedBy[i];
  if (endedBy !== undefined) iv.endedBy = endedBy;
  return iv;
}

/** Contention at each acquisition site, without building a whole report (for CodeLens). */
export function siteStats(v: EngineView): ContentionStats[] {
  return [...v.siteStats.entries()].map(([key, { stats, site }]) =>
    statsOf(key, site.fn ? `${site.fn} (${key})` : key, 'site', stats),
  );
}
