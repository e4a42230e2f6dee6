/**
 * The wait-for graph's geometry, apart from any drawing: the data each node and edge carries, the
 * centre each group (thread, process) is pulled to, starting places for new nodes, the outlines of
 * the groups, where a cycle's label fits, and where an edge meets the shapes at its ends. Pure:
 * numbers in, numbers out, no DOM.
 */
import { polygonHull, type SimulationLinkDatum, type SimulationNodeDatum } from 'd3';
import type { PictureEdge, PictureNode } from '../model/picture.js';

export interface NodeDatum extends SimulationNodeDatum {
  key: string;
  data: PictureNode;
  x: number;
  y: number;
  /** Half the extent of the shape, for clipping edges and hit tests. */
  halfWidth: number;
  halfHeight: number;
  /** Label widths, measured once per label (text measuring is the costly part of a frame). */
  labelWidth: number;
  detailWidth: number;
  targetX: number;
  targetY: number;
}

export interface LinkDatum extends SimulationLinkDatum<NodeDatum> {
  key: string;
  data: PictureEdge;
  source: NodeDatum;
  target: NodeDatum;
  /** Sideways shift, so that two edges between the same nodes in opposite directions both show. */
  offset: number;
  /** The colour the last frame stroked it with (for the test hook). */
  drawnColour?: string;
}

export const TASK_RADIUS = 13;
export const RESOURCE_HALF_HEIGHT = 18;

/** A group's outline, as the points of a closed curve, and its name. */
export interface Hull {
  label: string;
  points: [number, number][];
}

/** The radius kept free around a node, its labels included (a task's hang below its circle). */
export function room(n: NodeDatum): number {
  return n.data.type === 'task'
    ? Math.max(TASK_RADIUS + 14, Math.min(n.labelWidth, 220) / 2 + 4)
    : n.halfWidth + 4;
}

/**
 * Gives each group its own centre: the threads of all processes around a circle, and each
 * process's resources at the middle of its threads. With a single thread everything is pulled
 * to one centre.
 */
export function placeClusters(nodes: NodeDatum[]): void {
  const sizes = new Map<string, number>();
  for (const n of nodes) {
    if (n.data.type === 'task') sizes.set(n.data.cluster, (sizes.get(n.data.cluster) ?? 0) + 1);
  }
  const clusters = [...sizes.keys()].sort(compareClusters);
  const centres = new Map<string, [number, number]>();
  if (clusters.length > 1) {
    let total = 0;
    for (const c of clusters) total += Math.sqrt(sizes.get(c)!) * 70 + 50;
    const radius = Math.max(110, total / Math.PI / 2 + 40);
    clusters.forEach((c, i) => {
      const angle = (2 * Math.PI * i) / clusters.length - Math.PI / 2;
      centres.set(c, [radius * Math.cos(angle), radius * Math.sin(angle)]);
    });
  }
  const processCentres = new Map<string, [number, number, number]>();
  for (const [c, [x, y]] of centres) {
    const pid = c.split('/')[0]!;
    const p = processCentres.get(pid) ?? [0, 0, 0];
    processCentres.set(pid, [p[0] + x, p[1] + y, p[2] + 1]);
  }
  for (const n of nodes) {
    const centre =
      n.data.type === 'task' ? centres.get(n.data.cluster) : processCentres.get(n.data.cluster);
    if (!centre) {
      n.targetX = 0;
      n.targetY = 0;
    } else if (centre.length === 3) {
      n.targetX = centre[0] / centre[2];
      n.targetY = centre[1] / centre[2];
    } else {
      n.targetX = centre[0];
      n.targetY = centre[1];
    }
  }
}

/**
 * Starting places for new nodes. On a fresh graph: on a circle around each group's centre, in
 * the order of a walk along the edges, so a cycle starts as a ring and only has to relax. In an
 * update: next to a neighbour already placed, or at the group's centre.
 */
export function seed(nodes: NodeDatum[], links: LinkDatum[], fresh: boolean): void {
  const out = new Map<string, NodeDatum[]>();
  const neighbours = new Map<string, NodeDatum[]>();
  for (const l of links) {
    push(out, l.source.key, l.target);
    push(neighbours, l.source.key, l.target);
    push(neighbours, l.target.key, l.source);
  }
  const order: NodeDatum[] = [];
  const visited = new Set<string>();
  const visit = (start: NodeDatum): void => {
    // An explicit stack: a long chain of waits would overflow a recursive walk.
    const stack = [start];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (visited.has(n.key)) continue;
      visited.add(n.key);
      order.push(n);
      const next = out.get(n.key) ?? [];
      for (let i = next.length - 1; i >= 0; i--) stack.push(next[i]!);
    }
  };
  for (const n of nodes) if (n.data.cycle) visit(n);
  for (const n of nodes) visit(n);
  const unplaced = order.filter((n) => Number.isNaN(n.x));
  if (fresh) {
    // One ring in walk order around the middle of the groups: a cycle starts as a ring (and
    // never on a line, where its edges would overlap), and the group forces then pull the
    // threads apart.
    let cx = 0;
    let cy = 0;
    for (const n of unplaced) {
      cx += n.targetX / unplaced.length;
      cy += n.targetY / unplaced.length;
    }
    const radius = Math.max(80, (unplaced.length * 80) / (2 * Math.PI));
    unplaced.forEach((n, i) => {
      const angle = (2 * Math.PI * i) / unplaced.length - Math.PI / 2 + 0.3;
      n.x = cx + radius * Math.cos(angle);
      n.y = cy + radius * Math.sin(angle);
    });
    return;
  }
  unplaced.forEach((n, i) => {
    const anchor = (neighbours.get(n.key) ?? []).find((m) => !Number.isNaN(m.x));
    const angle = i * 2.399963;
    const [cx, cy] = anchor ? [anchor.x, anchor.y] : [n.targetX, n.targetY];
    n.x = cx + 70 * Math.cos(angle);
    n.y = cy + 70 * Math.sin(angle);
  });
}

/** Outlines around each thread's tasks (and each process, when there are several). */
export function computeHulls(nodes: NodeDatum[]): Hull[] {
  const threads = new Map<string, NodeDatum[]>();
  const processes = new Map<number, NodeDatum[]>();
  for (const n of nodes) {
    if (n.data.type === 'task') push(threads, n.data.cluster, n);
    push(processes, n.data.pid, n);
  }
  const hulls: Hull[] = [];
  const manyProcesses = processes.size > 1;
  const outline = (members: NodeDatum[], pad: number): [number, number][] => {
    // Sixteen points around each node, below it far enough to take in a task's two label lines.
    // A large group is outlined from the hull of its centres instead, each corner pushed out
    // from the middle: the outline is recomputed while the layout moves, and this keeps it
    // linear in the nodes rather than sixteen times that.
    if (members.length > 24) {
      const hull = polygonHull(members.map((n): [number, number] => [n.x, n.y]));
      if (hull) {
        const cx = members.reduce((s, n) => s + n.x, 0) / members.length;
        const cy = members.reduce((s, n) => s + n.y, 0) / members.length;
        return hull.map(([x, y]): [number, number] => {
          const d = Math.hypot(x - cx, y - cy) || 1;
          const out = pad + 40;
          return [x + ((x - cx) / d) * out, y + ((y - cy) / d) * out];
        });
      }
    }
    const points: [number, number][] = [];
    for (const n of members) {
      const task = n.data.type === 'task';
      const rx = Math.max(n.halfWidth, task ? n.labelWidth / 2 : 0) + pad;
      const above = n.halfHeight + pad;
      const below = n.halfHeight + pad + (task ? 28 : 0);
      for (let a = 0; a < 16; a++) {
        const angle = (a * Math.PI) / 8;
        const sin = Math.sin(angle);
        points.push([n.x + rx * Math.cos(angle), n.y + (sin > 0 ? below : above) * sin]);
      }
    }
    return polygonHull(points) ?? points;
  };
  if (manyProcesses) {
    for (const [pid, members] of processes) {
      hulls.push({ label: `process ${pid}`, points: outline(members, 30) });
    }
  }
  if (threads.size > 1) {
    for (const [cluster, members] of threads) {
      const [pid, thread] = cluster.split('/');
      const name = thread === '0' ? 'main thread' : `thread ${thread}`;
      hulls.push({
        label: manyProcesses ? `${name} of ${pid}` : name,
        points: outline(members, 14),
      });
    }
  }
  return hulls;
}

/**
 * Where a cycle's label goes: inside the ring when it is free there, else above or below the
 * cycle, wherever it covers no node.
 */
export function labelPlace(members: NodeDatum[], nodes: NodeDatum[]): [number, number] {
  const cx = members.reduce((s, n) => s + n.x, 0) / members.length;
  const cy = members.reduce((s, n) => s + n.y, 0) / members.length;
  const top = Math.min(...members.map((n) => n.y - n.halfHeight));
  const bottom = Math.max(
    ...members.map((n) => n.y + n.halfHeight + (n.data.type === 'task' ? 30 : 0)),
  );
  const left = Math.min(...members.map((n) => n.x - Math.max(n.halfWidth, n.labelWidth / 2)));
  const right = Math.max(...members.map((n) => n.x + Math.max(n.halfWidth, n.labelWidth / 2)));
  const candidates: [number, number][] = [
    [cx, cy],
    [right + 58, cy],
    [left - 58, cy],
    [cx, bottom + 14],
    [cx, top - 16],
  ];
  const free = ([x, y]: [number, number]): boolean =>
    nodes.every((n) => {
      const w = Math.max(n.halfWidth, n.data.type === 'task' ? n.labelWidth / 2 : 0);
      const below = n.data.type === 'task' ? 30 : 0;
      return (
        Math.abs(n.x - x) > w + 48 ||
        y < n.y - n.halfHeight - 10 ||
        y > n.y + n.halfHeight + below + 10
      );
    });
  return candidates.find(free) ?? candidates[members.length > 2 ? 0 : 1]!;
}

/** The edge from border to border (not centre to centre), so the arrowhead stays visible. */
export function segment(l: LinkDatum): [number, number, number, number] | undefined {
  const dx = l.target.x - l.source.x;
  const dy = l.target.y - l.source.y;
  const length = Math.hypot(dx, dy) || 1;
  const ux = dx / length;
  const uy = dy / length;
  const ox = -uy * l.offset;
  const oy = ux * l.offset;
  const from = border(l.source, ux, uy);
  const to = border(l.target, -ux, -uy) + 2;
  if (from + to >= length) return undefined;
  return [
    l.source.x + ux * from + ox,
    l.source.y + uy * from + oy,
    l.target.x - ux * to + ox,
    l.target.y - uy * to + oy,
  ];
}

/** The distance from a node's centre to its border in the direction (ux, uy). */
function border(n: NodeDatum, ux: number, uy: number): number {
  if (n.data.type === 'task') return TASK_RADIUS + 1.5;
  const tx = Math.abs(ux) > 1e-9 ? n.halfWidth / Math.abs(ux) : Infinity;
  const ty = Math.abs(uy) > 1e-9 ? n.halfHeight / Math.abs(uy) : Infinity;
  return Math.min(tx, ty) + 1.5;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Clusters sort by process, then numerically by thread. */
function compareClusters(a: string, b: string): number {
  const [pa, ta] = a.split('/').map(Number);
  const [pb, tb] = b.split('/').map(Number);
  return pa! - pb! || ta! - tb!;
}
