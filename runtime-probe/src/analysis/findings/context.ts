/**
 * The one small interface between the engine and the modules that make findings, one module per
 * kind (this folder). A module decides whether its finding holds and says it: it builds a
 * structured draft (kind, severity, tasks, resources, and sites with role codes) and emits it;
 * the engine turns drafts into findings, once per id.
 */
import type { AnalysisOptions } from '../engine.js';
import type { ProcessModel, ResourceState, TaskState } from '../model.js';
import type { OrderEdgeState } from '../order.js';
import type {
  CycleEdge,
  FindingKind,
  FindingPattern,
  Severity,
  SiteAct,
  SiteRef,
} from '../types.js';

export interface FindingDraft {
  kind: FindingKind;
  pattern?: FindingPattern;
  severity: Severity;
  /** Stable across runs: a finding with an id already reported is not reported again. */
  id: string;
  title: string;
  message: string;
  tasks: TaskState[];
  resources: ResourceState[];
  sites: SiteRef[];
  fix: string;
  /** Microseconds since the origin. */
  at: number;
  cycle?: CycleEdge[];
  /** Set when events the finding depends on may have been lost (a thread ended from outside). */
  lost?: boolean;
}

export interface FindingContext {
  readonly options: AnalysisOptions;
  /** A site of the process as the report shows it, with what happens there as a code and words. */
  site(proc: ProcessModel, id: number, act: SiteAct, role: string): SiteRef;
  /** `file:line:column` of a site, for ids; empty when unknown. */
  siteKey(proc: ProcessModel, id: number): string;
  /** True once a finding with this id has been reported. */
  reported(id: string): boolean;
  emit(draft: FindingDraft): void;
  /** The wait-for edges (`from>to` keys) that belong to a reported cycle, for the graph. */
  readonly cycleEdges: Set<string>;
  /** The lock-order edges that belong to a reported inversion. */
  readonly inversionEdges: Set<OrderEdgeState<ResourceState, TaskState>>;
}
