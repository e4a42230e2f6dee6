/**
 * The wait-for graph at a moment, derived from the report's time line: a hold covering the moment
 * gives an edge from the resource to the task holding it, a wait covering it an edge from the task
 * to the resource it waits for. A deadlock finding's cycle is marked only from the moment it was
 * found, and only if all of its edges are there, so scrubbing back to before a deadlock shows the
 * tasks still making progress and no cycle.
 *
 * At the end of the report (the live view) the report's own graph is merged in: it is the
 * analysis's state, authoritative even for holds whose intervals the bounded time line has dropped.
 *
 * Pure: no DOM.
 */
import type { Model } from './model.js';

export interface PictureNode {
  key: string;
  type: 'task' | 'resource';
  label: string;
  /** A task's state (running, blocked) or a resource's kind. */
  detail: string;
  /** The resource's kind; empty for a task. */
  kind: string;
  pid: number;
  thread: number;
  /** The group the layout keeps together: a task's thread, a resource's process. */
  cluster: string;
  cycle: boolean;
  /** A resource's palette index; 0 for a task. */
  colour: number;
}

export interface PictureEdge {
  /** Unique in a picture: the type and both ends. */
  key: string;
  source: string;
  target: string;
  /** `order` is an observed lock order on a reported inversion, drawn between two resources. */
  type: 'holds' | 'waits' | 'order';
  cycle: boolean;
  /** The interval this edge stands for, or -1 (an edge from the report's graph, an order). */
  interval: number;
}

/** A reported deadlock cycle visible in the picture. */
export interface CycleMark {
  findingId: string;
  /** The nodes on the cycle, in cycle order. */
  nodes: string[];
}

export interface Picture {
  time: number;
  atEnd: boolean;
  nodes: PictureNode[];
  edges: PictureEdge[];
  cycles: CycleMark[];
}

/**
 * The picture at `time`. `atEnd` says that this is the end of the report (the live view), where
 * the report's graph is merged in.
 */
export function pictureAt(model: Model, time: number, atEnd: boolean): Picture {
  const nodes = new Map<string, PictureNode>();
  const edges = new Map<string, PictureEdge>();
  const blocked = new Set<string>();

  const addTask = (taskId: number): string => {
    const t = model.tasks[taskId]!;
    if (!nodes.has(t.key)) {
      nodes.set(t.key, {
        key: t.key,
        type: 'task',
        label: t.name,
        detail: 'running',
        kind: '',
        pid: t.pid,
        thread: t.thread,
        cluster: `${t.pid}/${t.thread}`,
        cycle: false,
        colour: 0,
      });
    }
    return t.key;
  };
  const addResource = (resourceId: number, pid: number): string => {
    const r = model.resources[resourceId]!;
    if (!nodes.has(r.key)) {
      nodes.set(r.key, {
        key: r.key,
        type: 'resource',
        label: r.name,
        detail: r.kind,
        kind: r.kind,
        pid,
        thread: 0,
        cluster: String(pid),
        cycle: false,
        colour: r.colour,
      });
    }
    return r.key;
  };
  const addEdge = (
    type: PictureEdge['type'],
    source: string,
    target: string,
    interval: number,
    cycle = false,
  ): void => {
    const key = `${type}|${source}|${target}`;
    const old = edges.get(key);
    if (old) {
      old.cycle ||= cycle;
      return;
    }
    edges.set(key, { key, source, target, type, cycle, interval });
  };

  for (const id of model.activeAt(time)) {
    const task = addTask(model.task[id]!);
    const pid = model.tasks[model.task[id]!]!.pid;
    const resource = addResource(model.resource[id]!, pid);
    if (model.kind[id] === 0) {
      addEdge('holds', resource, task, id);
    } else {
      addEdge('waits', task, resource, id);
      blocked.add(task);
    }
  }

  if (atEnd) {
    const graph = model.report.graph;
    for (const n of graph.nodes) {
      if (n.type === 'task') addTask(model.taskIndex.get(n.key)!);
      else addResource(model.resourceIndex.get(n.key)!, n.pid);
      if (n.type === 'task' && n.detail === 'blocked') blocked.add(n.key);
    }
    for (const e of graph.edges) {
      if (nodes.has(e.source) && nodes.has(e.target)) {
        addEdge(e.type, e.source, e.target, -1, e.cycle);
      }
    }
  }
  for (const key of blocked) nodes.get(key)!.detail = 'blocked';

  const cycles = markCycles(model, time, nodes, edges);
  // A cycle marked by the report's graph but by no finding (the finding was dropped to keep the
  // report bounded) still colours its nodes.
  for (const e of edges.values()) {
    if (e.cycle) {
      nodes.get(e.source)!.cycle = true;
      nodes.get(e.target)!.cycle = true;
    }
  }

  for (const o of model.report.graph.order) {
    if (o.inversion && nodes.has(o.from) && nodes.has(o.to)) addEdge('order', o.from, o.to, -1);
  }
  return { time, atEnd, nodes: [...nodes.values()], edges: [...edges.values()], cycles };
}

function markCycles(
  model: Model,
  time: number,
  nodes: Map<string, PictureNode>,
  edges: Map<string, PictureEdge>,
): CycleMark[] {
  const marks: CycleMark[] = [];
  for (const f of model.report.findings) {
    if (!f.cycle || f.cycle.length === 0 || f.at > time) continue;
    // Each step of a cycle is two edges of the graph: the waiter to the resource, and the resource
    // to the task holding it.
    const keys: string[] = [];
    for (const c of f.cycle) {
      keys.push(`waits|${c.from}|${c.resource}`, `holds|${c.resource}|${c.to}`);
    }
    if (!keys.every((k) => edges.has(k))) continue;
    for (const k of keys) edges.get(k)!.cycle = true;
    const cycleNodes: string[] = [];
    for (const c of f.cycle) cycleNodes.push(c.from, c.resource);
    for (const k of cycleNodes) nodes.get(k)!.cycle = true;
    marks.push({ findingId: f.id, nodes: cycleNodes });
  }
  return marks;
}
