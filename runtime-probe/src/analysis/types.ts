/**
 * The analysis engine's output: findings, contention statistics and a picture of the wait-for
 * graph and of the timeline. These are plain JSON-able data, shared by the CLI's reports (text,
 * `--json`, SARIF, Chrome trace, HTML), the extension and the webview.
 *
 * This is a contract, like the wire protocol: a Report carries `version` (REPORT_VERSION), and
 * within a version changes are additive only (new optional fields, new codes in the open
 * enums), so a consumer ignores what it does not know. A change that removes or redefines a
 * field is a new version.
 */

/** The version of the Report contract this analysis writes. */
export const REPORT_VERSION = 1;

export const FINDING_KINDS = [
  'deadlock',
  'blocked-forever',
  'lock-order-inversion',
  'abandoned-lock',
  'self-deadlock',
  'misuse',
  'starvation',
  'long-hold',
  'livelock',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export type Severity = 'error' | 'warning' | 'info';

/**
 * A named pattern within a finding kind, as a code (added in report version 1; absent when the
 * finding fits no named pattern). The wording and the advice follow it.
 * - `rw-upgrade` (self-deadlock): a task that holds a read lock asks to write it;
 * - `read-under-write` (self-deadlock): a task that holds a write lock asks to read it;
 * - `rw-reentry` (deadlock): a second read queued behind a waiting writer, read-write-read;
 * - `missing-party` (blocked-forever): a barrier waits for a party that will never arrive;
 * - `no-sender` (blocked-forever): receivers wait on a channel no task will send to or close;
 * - `left-held` (any lock finding): the holder acquired the lock in a function that has
 *   returned without releasing it (see `SiteAct` `left-held`);
 * - `averted` (deadlock): fail-fast refused the wait that would have closed the cycle;
 * - `timed-out` (deadlock): a cycle that lasted until one of its waits gave up (a timeout or an
 *   AbortSignal): a warning, since it broke by itself;
 * - `bounded` (deadlock): a cycle that has stood past the long-hold limit (or to its process's
 *   end) through a wait that may still give up: a warning.
 */
export const FINDING_PATTERNS = [
  'rw-upgrade',
  'read-under-write',
  'rw-reentry',
  'missing-party',
  'no-sender',
  'left-held',
  'averted',
  'timed-out',
  'bounded',
] as const;
export type FindingPattern = (typeof FINDING_PATTERNS)[number];

/**
 * Whether the data supports a finding definitely. An uncertain finding is never of error
 * severity, never stops the program, and makes `lockscope run` exit 3 (inconclusive).
 */
export type Certainty = 'exact' | 'uncertain';

/**
 * Why a finding is uncertain: `identity`, a task involved could not be told apart exactly from
 * another flow; `gap`, events were lost before it was found.
 */
export const UNCERTAINTY_REASONS = ['identity', 'gap'] as const;
export type UncertaintyReason = (typeof UNCERTAINTY_REASONS)[number];

/** A place in the user's source (1-based line and column, in the TypeScript source). */
/**
 * What happens at a site, as a code that consumers decide on; `role` says it in words for people
 * and may contain user-chosen names, so nothing may be decided by reading it.
 * - `waits`: a task waits there (for a lock, a signal, a join);
 * - `acquired`: the task holding the resource acquired it there;
 * - `holds`: where a holder took what another task is trying to get (livelock);
 * - `tries`: a failed try-lock;
 * - `takes-first`, `takes-then`: the outer and inner acquisitions of a lock-order edge;
 * - `misuse`: the misused call (double release, release by a non-owner, ...);
 * - `acquires`: an acquisition site, in statistics and time lines;
 * - `left-held`: where a holder acquired a lock in a function that returned without releasing it;
 * - `signals`: where a task a waiter counts on to wake it last signalled the resource (sent to
 *   or received from a channel, notified a condition, set an event, arrived at a barrier).
 */
export type SiteAct =
  | 'waits'
  | 'acquired'
  | 'holds'
  | 'tries'
  | 'takes-first'
  | 'takes-then'
  | 'misuse'
  | 'acquires'
  | 'left-held'
  | 'signals';

export interface SiteRef {
  file: string;
  line: number;
  column: number;
  fn?: string;
  /** What happens there, as a code (added in report version 1; absent in older reports). */
  act?: SiteAct;
  /** What happens there, as a phrase: "philosopher 1 waits for fork 2". */
  role: string;
  /** The callers of this site, innermost first, when the probe captured them. */
  stack?: Omit<SiteRef, 'role' | 'stack'>[];
}

export interface TaskRef {
  /** Unique within a report: `<process>:<task id>`. */
  key: string;
  /** Ends with ` ?` when the task's identity is uncertain. */
  name: string;
  pid: number;
  thread: number;
  /** Set when the probe could not decide this task's operations exactly. */
  uncertain?: true;
}

export interface ResourceRef {
  /** Unique within a report: `<process>:<resource id>`. */
  key: string;
  name: string;
  kind: string;
  /** The lock class: the construction site or the `class` option. */
  class: string;
}

/** One edge of a cycle: `from` waits for `to` because of `resource`. */
export interface CycleEdge {
  from: string;
  to: string;
  resource: string;
  /** Where `from` waits. */
  waitSite?: SiteRef;
  /** Where `to` acquired the resource (or, for other primitives, last used it). */
  holdSite?: SiteRef;
}

export interface Finding {
  /** Stable across runs of the same program: the kind and the names involved. */
  id: string;
  kind: FindingKind;
  /** The named pattern of the kind this finding fits, if any. */
  pattern?: FindingPattern;
  severity: Severity;
  /** One line: what happened, without the details. */
  title: string;
  /** The whole story, naming every task and resource involved. */
  message: string;
  tasks: TaskRef[];
  resources: ResourceRef[];
  /** Every relevant source site: both ends of each edge. The first is the primary location. */
  sites: SiteRef[];
  /** The suggested fix, as a sentence. */
  fix: string;
  /** Microseconds since the start of the report's time line, when it was found. */
  at: number;
  /** For a deadlock: the cycle, edge by edge. */
  cycle?: CycleEdge[];
  /** `exact` unless the data cannot support the finding definitely; then `uncertainty` says why. */
  certainty: Certainty;
  uncertainty?: UncertaintyReason[];
}

/** Wait and hold times, in microseconds, as percentiles of a log histogram (±6%). */
export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface ContentionStats {
  /** A resource key, or a site as `file:line:column`. */
  key: string;
  name: string;
  kind: string;
  acquisitions: number;
  /** Acquisitions that had to wait. */
  contended: number;
  wait: Percentiles;
  hold: Percentiles;
  /**
   * For the aggregate of a class's resources the program no longer uses (keyed
   * `process:class:name`): how many resources it sums up.
   */
  resources?: number;
}

export interface ProcessSummary {
  pid: number;
  /** The pid of the process that started it (absent from older probes). */
  ppid?: number;
  title: string;
  /** Its main script, when it has one (absent from older probes). */
  script?: string;
  threads: number[];
  /** Set when the process has ended; `undefined` while it runs or when its stream was cut. */
  exitCode?: number;
  produced: number;
  dropped: number;
  events: number;
}

/** The wait-for graph as it stands at the end of the report (or at the moment asked for). */
export interface GraphNode {
  key: string;
  type: 'task' | 'resource';
  label: string;
  /** For a resource: its kind (mutex, semaphore, ...); for a task: running, blocked or ended. */
  detail: string;
  pid: number;
  thread: number;
}

export interface GraphEdge {
  source: string;
  target: string;
  /** `holds`: resource → task that holds it; `waits`: task → resource it waits for. */
  type: 'holds' | 'waits';
  /** True when the edge lies on a reported deadlock cycle. */
  cycle: boolean;
}

/** An observed lock order: `from` was held while `to` was acquired. */
export interface OrderEdge {
  from: string;
  to: string;
  /** True when the edge lies on a reported inversion. */
  inversion: boolean;
}

export interface TimelineLane {
  task: string;
  name: string;
  pid: number;
  thread: number;
}

export interface TimelineInterval {
  task: string;
  resource: string;
  type: 'hold' | 'wait';
  /** Microseconds since the start of the time line. */
  start: number;
  /** Absent while it still lasts at the end of the report. */
  end?: number;
  site?: SiteRef;
  /** For a wait that ended with a grant: the task whose release ended it, for flow arrows. */
  endedBy?: string;
}

export interface Report {
  version: typeof REPORT_VERSION;
  /** Epoch milliseconds of the start of the time line. */
  origin: number;
  findings: Finding[];
  processes: ProcessSummary[];
  stats: { resources: ContentionStats[]; sites: ContentionStats[] };
  graph: { nodes: GraphNode[]; edges: GraphEdge[]; order: OrderEdge[] };
  timeline: {
    lanes: TimelineLane[];
    intervals: TimelineInterval[];
    /** How many intervals were left out to keep the report bounded. */
    omitted: number;
  };
  /** Resources by key, for the timeline and graph labels. */
  resources: ResourceRef[];
}

/** The live state of a session, for a tree view (Analyzer.state()). */
export interface LiveState {
  processes: LiveProcess[];
}

export interface LiveProcess {
  key: string;
  pid: number;
  /** The pid of the process that started it (absent from older probes). */
  ppid?: number;
  title: string;
  /** Its main script, when it has one (absent from older probes). */
  script?: string;
  /** `cut` when its streams closed without an `end` message: the process died mid-stream. */
  status: 'running' | 'exited' | 'cut';
  exitCode?: number;
  produced: number;
  dropped: number;
  threads: number[];
  tasks: LiveTask[];
  /** Tasks left out of `tasks` to keep the view bounded. */
  tasksOmitted: number;
  resources: LiveResource[];
}

export interface LiveTask {
  key: string;
  name: string;
  thread: number;
  state: 'running' | 'blocked';
  waitingFor?: string;
  holds: string[];
}

export interface LiveResource {
  key: string;
  name: string;
  kind: string;
  holders: string[];
  waiters: string[];
}
