/**
 * The messages between the extension host and the graph webview, and the webview's saved state.
 * Commands go from the webview to the host; `did...` notifications go from the host to the
 * webview. Both sides validate what they receive: a webview is a browser page, and its messages
 * are input like any other. The saved state is validated too, because it comes back from storage
 * that an older version of the webview may have written.
 *
 * This module is pure (no DOM, no `vscode`), so the host, the webview and the tests share it.
 */
import type { Report, SiteRef, TimelineInterval } from 'lockscope/report';

/** Commands from the webview to the host. */
export type ToHost =
  /** The webview has loaded and listens: the host answers with the current report. */
  | { type: 'ready' }
  /** The user clicked a source site: the host opens the file at that line and column. */
  | { type: 'openSource'; file: string; line: number; column?: number };

/** Notifications from the host to the webview. */
export type ToWebview = {
  type: 'didReport';
  /**
   * The analysis report. When `timeline` is present, `report.timeline.intervals` is empty and the
   * intervals travel in `timeline` instead.
   */
  report: Report;
  /** True while the session is running, so more reports will follow. */
  live: boolean;
  /** The time line in columns: far cheaper to post and to index than one object per interval. */
  timeline?: PackedTimeline;
};

/**
 * The time line as columns. One object per interval, each with its own site and stack, costs about
 * 4.5 µs per interval to post to a webview (structured clone, measured in Chromium); as numbers in
 * arrays with the sites interned it is a small fraction of that, and the webview indexes the
 * columns directly. Every column has one entry per interval, in the order of the report.
 */
export interface PackedTimeline {
  /** Task keys, referred to by `task` and `endedBy`. */
  tasks: string[];
  /** Resource keys, referred to by `resource`. */
  resources: string[];
  /** Interned sites without their role (the webview words the role from the names). */
  sites: Omit<SiteRef, 'role'>[];
  task: number[];
  resource: number[];
  /** 0 for a hold, 1 for a wait. */
  kind: number[];
  /** Microseconds since the report's origin. */
  start: number[];
  /** Microseconds since the origin, or -1 while the interval still lasts. */
  end: number[];
  /** An index into `sites`, or -1. */
  site: number[];
  /** For a wait ended by a grant: the index of the task whose release ended it, or -1. */
  endedBy: number[];
}

/** Packs intervals into columns (the host does this before posting a report). */
export function packTimeline(intervals: readonly TimelineInterval[]): PackedTimeline {
  const n = intervals.length;
  const packed: PackedTimeline = {
    tasks: [],
    resources: [],
    sites: [],
    task: new Array<number>(n),
    resource: new Array<number>(n),
    kind: new Array<number>(n),
    start: new Array<number>(n),
    end: new Array<number>(n),
    site: new Array<number>(n),
    endedBy: new Array<number>(n),
  };
  const tasks = new Map<string, number>();
  const resources = new Map<string, number>();
  const sites = new Map<string, number>();
  const taskIndex = (key: string): number => {
    let i = tasks.get(key);
    if (i === undefined) {
      i = packed.tasks.push(key) - 1;
      tasks.set(key, i);
    }
    return i;
  };
  for (let i = 0; i < n; i++) {
    const v = intervals[i]!;
    packed.task[i] = taskIndex(v.task);
    let r = resources.get(v.resource);
    if (r === undefined) {
      r = packed.resources.push(v.resource) - 1;
      resources.set(v.resource, r);
    }
    packed.resource[i] = r;
    packed.kind[i] = v.type === 'wait' ? 1 : 0;
    packed.start[i] = v.start;
    packed.end[i] = v.end ?? -1;
    packed.endedBy[i] = v.endedBy === undefined ? -1 : taskIndex(v.endedBy);
    if (v.site) {
      const key = siteKey(v.site);
      let s = sites.get(key);
      if (s === undefined) {
        const { role: _role, ...site } = v.site;
        s = packed.sites.push(site) - 1;
        sites.set(key, s);
      }
      packed.site[i] = s;
    } else {
      packed.site[i] = -1;
    }
  }
  return packed;
}

/**
 * The `didReport` notification for a report: its time line packed, and cut to the most recent
 * `maxIntervals` (the ones left out are added to `omitted`), so that what is posted stays bounded
 * whatever the session's length.
 */
export function reportMessage(report: Report, live: boolean, maxIntervals: number): ToWebview {
  const all = report.timeline.intervals;
  const kept = all.length > maxIntervals ? all.slice(all.length - maxIntervals) : all;
  return {
    type: 'didReport',
    live,
    report: {
      ...report,
      timeline: {
        lanes: report.timeline.lanes,
        intervals: [],
        omitted: report.timeline.omitted + (all.length - kept.length),
      },
    },
    timeline: packTimeline(kept),
  };
}

/** Sites are equal when their place, function and callers are; the role is left out on purpose. */
function siteKey(s: SiteRef): string {
  let key = `${s.file}\u0000${s.line}\u0000${s.column}\u0000${s.fn ?? ''}`;
  for (const f of s.stack ?? []) key += `\u0001${f.file}\u0000${f.line}\u0000${f.column}`;
  return key;
}

/** Returns the command, or a reason it is not one. */
export function parseToHost(value: unknown): ToHost | string {
  if (typeof value !== 'object' || value === null) return 'a message must be an object';
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
      return { type: 'ready' };
    case 'openSource': {
      if (typeof m.file !== 'string' || m.file === '') return 'openSource: file must be a path';
      if (!isWhole(m.line, 1)) return 'openSource: line must be a whole number from 1';
      if (m.column !== undefined && !isWhole(m.column, 1)) {
        return 'openSource: column must be a whole number from 1';
      }
      return {
        type: 'openSource',
        file: m.file,
        line: m.line,
        ...(isWhole(m.column, 1) ? { column: m.column } : {}),
      };
    }
    default:
      return `unknown message type ${JSON.stringify(m.type)}`;
  }
}

/** Returns the notification, or a reason it is not one. */
export function parseToWebview(value: unknown): ToWebview | string {
  if (typeof value !== 'object' || value === null) return 'a message must be an object';
  const m = value as Record<string, unknown>;
  if (m.type !== 'didReport') return `unknown message type ${JSON.stringify(m.type)}`;
  const problem = checkReport(m.report);
  if (problem) return `didReport: ${problem}`;
  const report = m.report as Report;
  if (m.timeline === undefined) return { type: 'didReport', report, live: m.live === true };
  const timeline = checkPacked(m.timeline);
  if (typeof timeline === 'string') return `didReport: timeline: ${timeline}`;
  return { type: 'didReport', report, live: m.live === true, timeline };
}

/**
 * Checks the parts of a report the webview indexes or iterates. Names and messages are only ever
 * shown as text, so their content needs no check; a missing array would throw in the renderer,
 * so every array is checked.
 */
export function checkReport(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'report must be a version 1 report';
  const r = value as Partial<Record<keyof Report, unknown>>;
  if (r.version !== 1 || !Array.isArray(r.findings)) return 'report must be a version 1 report';
  if (typeof r.origin !== 'number') return 'report.origin must be a number';
  if (!Array.isArray(r.processes) || !Array.isArray(r.resources)) {
    return 'report must list its processes and resources';
  }
  const g = r.graph as Partial<Report['graph']> | undefined;
  if (!g || !Array.isArray(g.nodes) || !Array.isArray(g.edges) || !Array.isArray(g.order)) {
    return 'report.graph must have nodes, edges and order';
  }
  const t = r.timeline as Partial<Report['timeline']> | undefined;
  if (!t || !Array.isArray(t.lanes) || !Array.isArray(t.intervals)) {
    return 'report.timeline must have lanes and intervals';
  }
  for (const f of r.findings as unknown[]) {
    const finding = f as { at?: unknown; sites?: unknown; cycle?: unknown } | null;
    if (
      typeof finding !== 'object' ||
      finding === null ||
      typeof finding.at !== 'number' ||
      !Array.isArray(finding.sites) ||
      (finding.cycle !== undefined && !Array.isArray(finding.cycle))
    ) {
      return 'every finding needs a time and a list of sites';
    }
  }
  for (const i of t.intervals as unknown[]) {
    const v = i as Partial<TimelineInterval> | null;
    if (
      typeof v !== 'object' ||
      v === null ||
      typeof v.task !== 'string' ||
      typeof v.resource !== 'string' ||
      (v.type !== 'hold' && v.type !== 'wait') ||
      !Number.isFinite(v.start) ||
      (v.end !== undefined && !Number.isFinite(v.end))
    ) {
      return 'every interval needs a task, a resource, a type and a start';
    }
  }
  return undefined;
}

const COLUMNS = ['task', 'resource', 'kind', 'start', 'end', 'site', 'endedBy'] as const;

function checkPacked(value: unknown): PackedTimeline | string {
  if (typeof value !== 'object' || value === null) return 'must be an object';
  const p = value as Partial<Record<keyof PackedTimeline, unknown>>;
  if (!isStrings(p.tasks) || !isStrings(p.resources)) return 'tasks and resources must be strings';
  if (!Array.isArray(p.sites) || !p.sites.every(isSite)) return 'sites must be source sites';
  const n = Array.isArray(p.task) ? p.task.length : -1;
  for (const c of COLUMNS) {
    const column = p[c];
    if (!Array.isArray(column) || column.length !== n) {
      return `${c} must be an array as long as the others`;
    }
  }
  const packed = p as PackedTimeline;
  const tasks = packed.tasks.length;
  const resources = packed.resources.length;
  const sites = packed.sites.length;
  // One loop over all the columns; each value is read once, so a large time line stays cheap.
  for (let i = 0; i < n; i++) {
    const start = packed.start[i]!;
    const end = packed.end[i]!;
    if (
      !inRange(packed.task[i], 0, tasks) ||
      !inRange(packed.resource[i], 0, resources) ||
      (packed.kind[i] !== 0 && packed.kind[i] !== 1) ||
      !inRange(packed.site[i], -1, sites) ||
      !inRange(packed.endedBy[i], -1, tasks) ||
      typeof start !== 'number' ||
      !(start >= 0 && start < Infinity) ||
      typeof end !== 'number' ||
      !(end === -1 || (end >= start && end < Infinity))
    ) {
      return `interval ${i} is malformed`;
    }
  }
  return packed;
}

function isWhole(v: unknown, min: number): v is number {
  return Number.isInteger(v) && (v as number) >= min;
}

/** An integer index in [min, max). */
function inRange(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v < max;
}

function isStrings(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

function isSite(v: unknown): boolean {
  const s = v as Partial<SiteRef> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.file === 'string' &&
    isWhole(s.line, 1) &&
    isWhole(s.column, 0) &&
    (s.fn === undefined || typeof s.fn === 'string') &&
    (s.stack === undefined || (Array.isArray(s.stack) && s.stack.every(isSite)))
  );
}

// ---------------------------------------------------------------------------------------------
// The webview's saved state (vscode.setState / getState)

/** What the user was looking at; restored when the panel is hidden and shown again. */
export interface ViewState {
  version: 1;
  /** True when the view was paused (playback), false when it followed the live session. */
  paused: boolean;
  /** The moment shown while paused, in microseconds since the report's origin. */
  time?: number;
  tab: 'wait-for' | 'lock-order';
  /** The graph's zoom transform. */
  graph?: { x: number; y: number; k: number };
  /** The timeline's visible span in microseconds, and its vertical scroll in pixels. */
  timeline?: { t0: number; t1: number; scrollTop: number };
  search: string;
  selected?: Selected;
}

/** What the details panel shows. */
export type Selected =
  | { kind: 'node'; key: string }
  | { kind: 'interval'; task: string; resource: string; start: number }
  | { kind: 'finding'; id: string };

export const DEFAULT_STATE: ViewState = { version: 1, paused: false, tab: 'wait-for', search: '' };

/**
 * Reads a saved state; anything missing or malformed takes its default, so a state written by
 * another version never breaks the view, it only forgets what it cannot read.
 */
export function parseState(value: unknown): ViewState {
  if (typeof value !== 'object' || value === null) return { ...DEFAULT_STATE };
  const s = value as Record<string, unknown>;
  if (s.version !== 1) return { ...DEFAULT_STATE };
  const state: ViewState = {
    version: 1,
    paused: s.paused === true,
    tab: s.tab === 'lock-order' ? 'lock-order' : 'wait-for',
    search: typeof s.search === 'string' ? s.search.slice(0, 200) : '',
  };
  if (isFiniteNumber(s.time) && s.time >= 0) state.time = s.time;
  const g = s.graph as Record<string, unknown> | undefined;
  if (g && isFiniteNumber(g.x) && isFiniteNumber(g.y) && isFiniteNumber(g.k) && g.k > 0) {
    state.graph = { x: g.x, y: g.y, k: g.k };
  }
  const t = s.timeline as Record<string, unknown> | undefined;
  if (
    t &&
    isFiniteNumber(t.t0) &&
    isFiniteNumber(t.t1) &&
    t.t1 > t.t0 &&
    isFiniteNumber(t.scrollTop) &&
    t.scrollTop >= 0
  ) {
    state.timeline = { t0: t.t0, t1: t.t1, scrollTop: t.scrollTop };
  }
  const selected = parseSelected(s.selected);
  if (selected) state.selected = selected;
  return state;
}

function parseSelected(value: unknown): Selected | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  switch (v.kind) {
    case 'node':
      return typeof v.key === 'string' ? { kind: 'node', key: v.key } : undefined;
    case 'finding':
      return typeof v.id === 'string' ? { kind: 'finding', id: v.id } : undefined;
    case 'interval':
      return typeof v.task === 'string' && typeof v.resource === 'string' && isFiniteNumber(v.start)
        ? { kind: 'interval', task: v.task, resource: v.resource, start: v.start }
        : undefined;
    default:
      return undefined;
  }
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}
