/**
 * The wait-for graph: tasks as circles, resources as rounded rectangles, `waits` edges (task to
 * the resource it waits for) dashed and `holds` edges (resource to the task holding it) solid.
 * Edges and nodes on a reported deadlock cycle are drawn in the error colour, and each cycle is
 * labelled "deadlock".
 *
 * The layout is a d3 force simulation run a fixed number of ticks synchronously from positions
 * seeded on a circle, so the same report always gives the same picture (stable screenshots, no
 * animation in a static page). `update()` re-joins by key and starts every known node from where it
 * was, so a live view can grow without the picture jumping.
 */
import {
  drag,
  forceCollide,
  forceLink,
  forceManyBody,
  forceSimulation,
  forceX,
  forceY,
  select,
  zoom,
  zoomIdentity,
  type D3DragEvent,
  type D3ZoomEvent,
  type Selection,
  type SimulationLinkDatum,
  type SimulationNodeDatum,
  type ZoomBehavior,
  type ZoomTransform,
} from 'd3';
import type { GraphNode, Report } from '../../../runtime-probe/src/analysis/types.js';
import { colourVar, contentWidth, resourceColours, uniqueId } from './common.js';

export interface GraphOptions {
  /** Ticks of the force simulation run before the first paint (300 by default). */
  ticks?: number;
  /** Height of the drawing in CSS pixels (480 by default). */
  height?: number;
}

export interface GraphView {
  /** Draws another state of the graph, keeping the positions of the nodes it already had. */
  update(report: Report): void;
  /** Fits the whole graph into the view again. */
  resetZoom(): void;
  /** Removes the drawing and its listeners. */
  destroy(): void;
}

interface NodeDatum extends SimulationNodeDatum {
  key: string;
  type: GraphNode['type'];
  label: string;
  detail: string;
  title: string;
  cycle: boolean;
  /** Palette index of a resource; unused for tasks. */
  colour: number;
  /** Half the extent of the node's shape, for clipping edges (a circle's radius twice). */
  halfWidth: number;
  halfHeight: number;
  /** Radius kept free around the node, its labels included. */
  room: number;
  x: number;
  y: number;
}

interface LinkDatum extends SimulationLinkDatum<NodeDatum> {
  key: string;
  type: 'holds' | 'waits';
  cycle: boolean;
  source: NodeDatum;
  target: NodeDatum;
  /** Sideways shift, so that two edges between the same nodes in opposite directions both show. */
  offset: number;
  title: string;
}

type Svg = Selection<SVGSVGElement, unknown, null, undefined>;
type Group = Selection<SVGGElement, unknown, null, undefined>;

const TASK_RADIUS = 14;
const RESOURCE_HALF_HEIGHT = 19;
const ARROW_GAP = 3;

export function renderGraph(
  container: HTMLElement,
  report: Report,
  options: GraphOptions = {},
): GraphView {
  const ticks = options.ticks ?? 300;
  // An empty graph gets a line, not a blank area; a live view that will fill it passes a height.
  const height = options.height ?? (report.graph.nodes.length > 0 ? 480 : 64);
  const id = uniqueId('ls-graph');

  const svg: Svg = select(container).append('svg').attr('class', 'ls-graph');
  // The drawing is as wide as the svg is laid out (100% of the container's content box).
  const width = contentWidth(svg.node()!, 800, 320);
  svg
    .attr('viewBox', `0 0 ${width} ${height}`)
    .attr('preserveAspectRatio', 'xMidYMid meet')
    .attr('role', 'img')
    .attr('aria-label', 'Wait-for graph')
    .style('height', `${height}px`);
  defineArrows(svg, id);
  const viewport: Group = svg.append('g').attr('class', 'ls-viewport');
  const labelLayer: Group = viewport.append('g').attr('class', 'ls-cycle-labels');
  const edgeLayer: Group = viewport.append('g').attr('class', 'ls-edges');
  const nodeLayer: Group = viewport.append('g').attr('class', 'ls-nodes');

  let nodes: NodeDatum[] = [];
  let links: LinkDatum[] = [];

  const zoomer: ZoomBehavior<SVGSVGElement, unknown> = zoom<SVGSVGElement, unknown>()
    .scaleExtent([0.1, 8])
    // The wheel zooms only with Ctrl or Cmd held, so scrolling the page past the graph still
    // scrolls; dragging the background pans, and a double click zooms in.
    .filter(
      (event: MouseEvent | WheelEvent) =>
        (event.type !== 'wheel' || event.ctrlKey || event.metaKey) && !event.button,
    )
    .wheelDelta((event: WheelEvent) => -event.deltaY * (event.deltaMode === 1 ? 0.05 : 0.002))
    .on('zoom', (event: D3ZoomEvent<SVGSVGElement, unknown>) => {
      viewport.attr('transform', event.transform.toString());
    });
  svg.call(zoomer);

  function draw(next: Report): void {
    const previous = new Map(nodes.map((n) => [n.key, n]));
    const colours = resourceColours(next);
    nodes = buildNodes(next, colours);
    links = buildLinks(next, nodes);

    // The join comes before the layout, because the layout needs the size of each label.
    const nodeSel = nodeLayer
      .selectAll<SVGGElement, NodeDatum>('g.ls-node')
      .data(nodes, (d) => d.key)
      .join((enter) => {
        const g = enter.append('g');
        g.append('title');
        return g;
      });
    nodeSel.attr('class', (d) => nodeClass(d));
    nodeSel.select('title').text((d) => d.title);
    nodeSel.each(function (d) {
      drawNode(select(this), d);
    });

    seed(nodes, links, previous);
    layout(nodes, links, previous.size > 0 ? Math.round(ticks / 3) : ticks, previous);

    edgeLayer
      .selectAll<SVGPathElement, LinkDatum>('path.ls-edge')
      .data(links, (d) => d.key)
      .join((enter) => {
        const p = enter.append('path');
        p.append('title');
        return p;
      })
      .attr('class', (d) => `ls-edge ${d.type}${d.cycle ? ' cycle' : ''}`)
      .attr('marker-end', (d) => `url(#${id}-${d.cycle ? 'cycle' : d.type})`)
      .select('title')
      .text((d) => d.title);

    nodeSel.call(
      drag<SVGGElement, NodeDatum>().on(
        'drag',
        (event: D3DragEvent<SVGGElement, NodeDatum, NodeDatum>, d) => {
          d.x = event.x;
          d.y = event.y;
          place();
        },
      ),
    );
    place();
  }

  /** Moves every node, edge and cycle label to its datum's position. */
  function place(): void {
    nodeLayer
      .selectAll<SVGGElement, NodeDatum>('g.ls-node')
      .attr('transform', (d) => `translate(${d.x},${d.y})`);
    edgeLayer.selectAll<SVGPathElement, LinkDatum>('path.ls-edge').attr('d', edgePath);
    labelLayer
      .selectAll<SVGTextElement, CycleLabel>('text')
      .data(cycleLabels(nodes, links), (d) => d.key)
      .join('text')
      .attr('class', 'ls-cycle-label')
      .attr('x', (d) => d.x)
      .attr('y', (d) => d.y)
      .text('deadlock');
  }

  function fit(): void {
    if (nodes.length === 0) {
      zoomer.transform(svg, zoomIdentity);
      return;
    }
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (const n of nodes) {
      x0 = Math.min(x0, n.x - n.room);
      x1 = Math.max(x1, n.x + n.room);
      y0 = Math.min(y0, n.y - n.halfHeight - 4);
      // Task labels hang below the circle.
      y1 = Math.max(y1, n.y + (n.type === 'task' ? n.halfHeight + 34 : n.halfHeight + 4));
    }
    const pad = 16;
    const scale = Math.min(
      (width - 2 * pad) / Math.max(x1 - x0, 1),
      (height - 2 * pad) / Math.max(y1 - y0, 1),
      1.5,
    );
    const t: ZoomTransform = zoomIdentity
      .translate(width / 2, height / 2)
      .scale(scale)
      .translate(-(x0 + x1) / 2, -(y0 + y1) / 2);
    zoomer.transform(svg, t);
  }

  draw(report);
  fit();
  if (nodes.length === 0) {
    svg
      .append('text')
      .attr('class', 'ls-empty')
      .attr('x', width / 2)
      .attr('y', height / 2)
      .text('No task holds or waits for anything at the end of the report.');
  }

  return {
    update(next) {
      svg.select('text.ls-empty').remove();
      draw(next);
    },
    resetZoom: fit,
    destroy() {
      svg.on('.zoom', null);
      svg.remove();
    },
  };
}

function defineArrows(svg: Svg, id: string): void {
  const defs = svg.append('defs');
  for (const kind of ['holds', 'waits', 'cycle']) {
    defs
      .append('marker')
      .attr('id', `${id}-${kind}`)
      .attr('viewBox', '0 -5 10 10')
      .attr('refX', 10)
      .attr('refY', 0)
      .attr('markerUnits', 'userSpaceOnUse')
      .attr('markerWidth', kind === 'cycle' ? 11 : 9)
      .attr('markerHeight', kind === 'cycle' ? 11 : 9)
      .attr('orient', 'auto')
      .append('path')
      .attr('class', `ls-arrow ${kind}`)
      .attr('d', 'M0,-4.5L10,0L0,4.5Z');
  }
}

function buildNodes(report: Report, colours: (key: string) => number): NodeDatum[] {
  const onCycle = new Set<string>();
  for (const e of report.graph.edges) {
    if (e.cycle) {
      onCycle.add(e.source);
      onCycle.add(e.target);
    }
  }
  const seen = new Set<string>();
  const out: NodeDatum[] = [];
  for (const n of report.graph.nodes) {
    // Keys are unique by contract; a duplicate would break the keyed join, so it is dropped.
    if (seen.has(n.key)) continue;
    seen.add(n.key);
    const task = n.type === 'task';
    const where = `process ${n.pid}, thread ${n.thread}`;
    out.push({
      key: n.key,
      type: n.type,
      label: n.label,
      detail: n.detail,
      title: task ? `${n.label}\n${n.detail}\n${where}` : `${n.label} (${n.detail})\n${where}`,
      cycle: onCycle.has(n.key),
      colour: task ? 0 : colours(n.key),
      halfWidth: task ? TASK_RADIUS : 40,
      halfHeight: task ? TASK_RADIUS : RESOURCE_HALF_HEIGHT,
      room: task ? TASK_RADIUS : 40,
      x: 0,
      y: 0,
    });
  }
  return out;
}

function buildLinks(report: Report, nodes: NodeDatum[]): LinkDatum[] {
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const pairs = new Set(report.graph.edges.map((e) => `${e.source}\u0000${e.target}`));
  const out: LinkDatum[] = [];
  const seen = new Set<string>();
  for (const e of report.graph.edges) {
    const source = byKey.get(e.source);
    const target = byKey.get(e.target);
    // An edge to a node the report does not list cannot be drawn; the analysis never emits one.
    if (!source || !target) continue;
    const key = `${e.type}\u0000${e.source}\u0000${e.target}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const task = e.type === 'waits' ? source : target;
    const resource = e.type === 'waits' ? target : source;
    out.push({
      key,
      type: e.type,
      cycle: e.cycle,
      source,
      target,
      offset: pairs.has(`${e.target}\u0000${e.source}`) ? 6 : 0,
      title:
        e.type === 'waits'
          ? `${task.label} waits for ${resource.label}`
          : `${resource.label} is held by ${task.label}`,
    });
  }
  return out;
}

function nodeClass(d: NodeDatum): string {
  const state = d.type === 'task' ? ` ${d.detail.replace(/[^a-z-]/gi, '')}` : '';
  return `ls-node ${d.type}${state}${d.cycle ? ' cycle' : ''}`;
}

/** Draws a node's shape and labels, then measures the labels to size the shape. */
function drawNode(g: Selection<SVGGElement, NodeDatum, null, undefined>, d: NodeDatum): void {
  g.selectAll(':not(title)').remove();
  if (d.type === 'task') {
    g.append('circle').attr('r', TASK_RADIUS);
    const name = g
      .append('text')
      .attr('class', 'ls-label')
      .attr('y', TASK_RADIUS + 14)
      .text(d.label);
    const detail = g
      .append('text')
      .attr('class', 'ls-detail')
      .attr('y', TASK_RADIUS + 27)
      .text(d.detail);
    d.room =
      Math.max(
        TASK_RADIUS,
        textWidth(name.node(), d.label, 7) / 2,
        textWidth(detail.node(), d.detail, 6) / 2,
      ) + 6;
    return;
  }
  const rect = g.append('rect').attr('rx', 7).attr('ry', 7);
  const swatch = g.append('rect').attr('class', 'ls-swatch').attr('width', 8).attr('height', 8);
  swatch.style('fill', colourVar(d.colour));
  const name = g.append('text').attr('class', 'ls-label').attr('y', -2).text(d.label);
  const kind = g.append('text').attr('class', 'ls-detail').attr('y', 12).text(d.detail);
  const inner = Math.max(
    textWidth(name.node(), d.label, 7) + 14,
    textWidth(kind.node(), d.detail, 6),
  );
  d.halfWidth = inner / 2 + 10;
  d.halfHeight = RESOURCE_HALF_HEIGHT;
  d.room = d.halfWidth + 4;
  rect
    .attr('x', -d.halfWidth)
    .attr('y', -d.halfHeight)
    .attr('width', 2 * d.halfWidth)
    .attr('height', 2 * d.halfHeight);
  // The name line starts with the resource's colour, the one its bars have in the timeline.
  const nameWidth = textWidth(name.node(), d.label, 7);
  swatch.attr('x', -(nameWidth + 14) / 2).attr('y', -11);
  name.attr('x', 7);
}

/** The rendered width of a label, or an estimate when the page is not laid out (hidden, detached). */
function textWidth(el: SVGTextElement | null, text: string, perChar: number): number {
  const measured = el?.getComputedTextLength() ?? 0;
  return measured > 0 ? measured : text.length * perChar;
}

/**
 * Initial positions. Known nodes keep theirs; new ones go next to a placed neighbour or, for a
 * fresh graph, on a circle in the order of a walk along the edges, so that a cycle is seeded as a
 * ring and the simulation only has to relax it.
 */
function seed(nodes: NodeDatum[], links: LinkDatum[], previous: Map<string, NodeDatum>): void {
  const out = new Map<string, NodeDatum[]>();
  const neighbours = new Map<string, NodeDatum[]>();
  for (const l of links) {
    (out.get(l.source.key) ?? out.set(l.source.key, []).get(l.source.key)!).push(l.target);
    for (const [a, b] of [
      [l.source, l.target],
      [l.target, l.source],
    ] as const) {
      (neighbours.get(a.key) ?? neighbours.set(a.key, []).get(a.key)!).push(b);
    }
  }
  const order: NodeDatum[] = [];
  const visited = new Set<string>();
  const visit = (start: NodeDatum): void => {
    // An explicit stack, because a long chain of waits would overflow a recursive walk.
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
  // Walks start at cycle nodes first, so a cycle is contiguous on the circle.
  for (const n of nodes) if (n.cycle) visit(n);
  for (const n of nodes) visit(n);

  const radius = Math.max(80, (order.length * 110) / (2 * Math.PI));
  order.forEach((n, i) => {
    const old = previous.get(n.key);
    if (old) {
      n.x = old.x;
      n.y = old.y;
      return;
    }
    const angle = (2 * Math.PI * i) / order.length - Math.PI / 2;
    n.x = radius * Math.cos(angle);
    n.y = radius * Math.sin(angle);
  });
  if (previous.size === 0) return;
  // In an update, a new node starts beside a neighbour that was already drawn.
  order.forEach((n, i) => {
    if (previous.has(n.key)) return;
    const anchor = (neighbours.get(n.key) ?? []).find((m) => previous.has(m.key));
    if (!anchor) return;
    const angle = i * 2.4;
    n.x = anchor.x + 60 * Math.cos(angle);
    n.y = anchor.y + 60 * Math.sin(angle);
  });
}

function layout(
  nodes: NodeDatum[],
  links: LinkDatum[],
  ticks: number,
  previous: Map<string, NodeDatum>,
): void {
  const simulation = forceSimulation<NodeDatum, LinkDatum>(nodes)
    .force(
      'link',
      forceLink<NodeDatum, LinkDatum>(links)
        .distance((l) => l.source.room + l.target.room + 40)
        .strength(0.6),
    )
    .force('charge', forceManyBody<NodeDatum>().strength(-500).distanceMax(700))
    .force(
      'collide',
      forceCollide<NodeDatum>((n) => n.room + 8),
    )
    // Weak pulls to the centre keep separate components of the graph from drifting apart.
    .force('x', forceX<NodeDatum>(0).strength(0.04))
    .force('y', forceY<NodeDatum>(0).strength(0.04))
    .stop();
  // In an update the nodes that were already drawn stay where they are (pinned while the new ones
  // find a place), so a live view does not jump and a node the user dragged stays put.
  const pinned = nodes.filter((n) => previous.has(n.key));
  for (const n of pinned) {
    n.fx = n.x;
    n.fy = n.y;
  }
  for (let i = 0; i < ticks; i++) simulation.tick();
  for (const n of pinned) {
    n.fx = null;
    n.fy = null;
  }
}

/** The edge from border to border (not centre to centre), so the arrowhead stays visible. */
function edgePath(l: LinkDatum): string {
  const dx = l.target.x - l.source.x;
  const dy = l.target.y - l.source.y;
  const length = Math.hypot(dx, dy) || 1;
  const ux = dx / length;
  const uy = dy / length;
  const ox = -uy * l.offset;
  const oy = ux * l.offset;
  const from = border(l.source, ux, uy);
  const to = border(l.target, -ux, -uy) + ARROW_GAP;
  if (from + to >= length) return '';
  const x0 = l.source.x + ux * from + ox;
  const y0 = l.source.y + uy * from + oy;
  const x1 = l.target.x - ux * to + ox;
  const y1 = l.target.y - uy * to + oy;
  return `M${x0},${y0}L${x1},${y1}`;
}

/** The distance from a node's centre to its border in the direction (ux, uy). */
function border(n: NodeDatum, ux: number, uy: number): number {
  if (n.type === 'task') return TASK_RADIUS + 1;
  const tx = Math.abs(ux) > 1e-9 ? n.halfWidth / Math.abs(ux) : Infinity;
  const ty = Math.abs(uy) > 1e-9 ? n.halfHeight / Math.abs(uy) : Infinity;
  return Math.min(tx, ty) + 1;
}

interface CycleLabel {
  key: string;
  x: number;
  y: number;
}

/**
 * One "deadlock" label per connected group of cycle edges, at the centre of its nodes: inside the
 * ring a cycle forms. A group of two nodes has no inside, so its label goes above them.
 */
function cycleLabels(nodes: NodeDatum[], links: LinkDatum[]): CycleLabel[] {
  const parent = new Map<string, string>();
  const find = (k: string): string => {
    let root = k;
    while (parent.get(root) !== root) root = parent.get(root)!;
    parent.set(k, root);
    return root;
  };
  for (const l of links) {
    if (!l.cycle) continue;
    for (const n of [l.source, l.target]) if (!parent.has(n.key)) parent.set(n.key, n.key);
    const a = find(l.source.key);
    const b = find(l.target.key);
    if (a !== b) parent.set(a, b);
  }
  const groups = new Map<string, NodeDatum[]>();
  for (const n of nodes) {
    if (!parent.has(n.key)) continue;
    const root = find(n.key);
    (groups.get(root) ?? groups.set(root, []).get(root)!).push(n);
  }
  return [...groups.values()].map((members) => {
    const x = members.reduce((s, n) => s + n.x, 0) / members.length;
    const y = members.reduce((s, n) => s + n.y, 0) / members.length;
    const top = Math.min(...members.map((n) => n.y - n.halfHeight));
    return {
      key: members.map((n) => n.key).sort()[0]!,
      x,
      y: members.length > 2 ? y + 5 : top - 12,
    };
  });
}
