/**
 * The wait-for graph, drawn on a canvas: tasks as circles, resources as rounded boxes with the icon
 * of their kind, `holds` edges (resource to the task holding it) solid, `waits` edges (task to the
 * resource it waits for) dashed, observed lock orders on a reported inversion dotted in the
 * warning colour, and the edges and nodes of a deadlock cycle in the error colour, each cycle
 * labelled. Tasks are grouped by thread and resources by process (forces pull each group to its
 * own centre, and a hull outlines each group when there is more than one).
 *
 * A canvas rather than SVG, because the view must stay fluid at a thousand nodes while the layout
 * moves: one path per style for all the edges, one for all the circles, and labels only where the
 * zoom leaves room for them. The data join is keyed all the same: each node keeps its datum (and
 * so its place) across pictures, and a node that leaves and comes back (scrubbing back and forth)
 * returns to where it was.
 *
 * The layout is a d3 force simulation seeded deterministically (positions on a circle in the order
 * of a walk along the edges, d3's own seeded jiggle), so the same picture always starts the same.
 * Painting is graph-paint.ts, the data join graph-join.ts, the layout's geometry graph-layout.ts.
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
  type ForceLink,
  type Simulation,
  type ZoomBehavior,
  type ZoomTransform,
} from 'd3';
import type { Picture } from '../model/picture.js';
import { showTooltip } from './common.js';
import {
  computeHulls,
  placeClusters,
  room,
  seed,
  segment,
  TASK_RADIUS,
  type Hull,
  type LinkDatum,
  type NodeDatum,
} from './graph-layout.js';
import { readTheme, sizeCanvas, type Theme } from './theme.js';
import type { GraphDebug } from '../debug.js';
import { GraphData, measureNode } from './graph-join.js';
import { paintGraph, tooltipLines } from './graph-paint.js';

export interface GraphViewOptions {
  /** `zoom`: the wheel zooms (a panel of its own); `ctrl`: only with Ctrl or Cmd (a long page). */
  wheel: 'zoom' | 'ctrl';
  /** A node was clicked (its key), or the background (undefined). */
  onSelect(key: string | undefined): void;
  /** The zoom changed, by the user or by `fit()`. */
  onTransform?(t: { x: number; y: number; k: number }): void;
}

export class GraphView {
  readonly element: HTMLDivElement;
  readonly #canvas: HTMLCanvasElement;
  readonly #tooltip: HTMLDivElement;
  readonly #options: GraphViewOptions;
  #theme: Theme;
  #ctx: CanvasRenderingContext2D;
  #width = 0;
  #height = 0;

  #nodes: NodeDatum[] = [];
  #links: LinkDatum[] = [];
  /** The nodes and links of the picture shown, joined by key across pictures. */
  readonly #data: GraphData;
  #picture: Picture | undefined;
  readonly #simulation: Simulation<NodeDatum, LinkDatum>;
  readonly #linkForce: ForceLink<NodeDatum, LinkDatum>;
  readonly #zoom: ZoomBehavior<HTMLCanvasElement, unknown>;
  #transform: ZoomTransform = zoomIdentity;
  /** True once the user (or a saved state) chose the zoom; until then the view keeps fitting. */
  #fitted = false;

  #search = '';
  #matches = new Set<string>();
  #selected: string | undefined;
  #focus = new Set<string>();
  #hover: NodeDatum | undefined;
  #frame = 0;
  #frames = 0;
  /** Where the last frame put the cycle labels, in graph coordinates. */
  #cycleLabels: [number, number][] = [];
  #hulls: Hull[] = [];
  #matchCursor = -1;

  constructor(parent: HTMLElement, options: GraphViewOptions) {
    this.#options = options;
    this.element = parent.appendChild(document.createElement('div'));
    this.element.className = 'ls-graph';
    this.#canvas = this.element.appendChild(document.createElement('canvas'));
    this.#canvas.setAttribute('role', 'img');
    this.#canvas.setAttribute('aria-label', 'Wait-for graph');
    this.#canvas.tabIndex = 0;
    this.#tooltip = this.element.appendChild(document.createElement('div'));
    this.#tooltip.className = 'ls-tooltip';
    this.#tooltip.hidden = true;
    this.#ctx = this.#canvas.getContext('2d')!;
    this.#theme = readTheme(this.element);
    this.#data = new GraphData((n) => measureNode(this.#ctx, this.#theme, n));

    this.#linkForce = forceLink<NodeDatum, LinkDatum>([])
      .id((d) => d.key)
      .distance((l) => room(l.source) + room(l.target) + 24)
      .strength(0.5);
    this.#simulation = forceSimulation<NodeDatum, LinkDatum>([])
      .force('link', this.#linkForce)
      .force('charge', forceManyBody<NodeDatum>().strength(-420).distanceMax(600).theta(0.95))
      .force('collide', forceCollide<NodeDatum>((n) => room(n) + 6).iterations(2))
      .force('x', forceX<NodeDatum>((n) => n.targetX).strength(0.06))
      .force('y', forceY<NodeDatum>((n) => n.targetY).strength(0.06))
      .alphaDecay(0.035)
      .stop();

    this.#zoom = zoom<HTMLCanvasElement, unknown>()
      .scaleExtent([0.03, 6])
      .filter((event: MouseEvent | WheelEvent) => {
        if (event.type === 'dblclick') return false;
        if (event.type === 'wheel')
          return options.wheel === 'zoom' || event.ctrlKey || event.metaKey;
        return !event.button;
      })
      .wheelDelta((event: WheelEvent) => -event.deltaY * (event.deltaMode === 1 ? 0.05 : 0.002))
      .on('zoom', (event: D3ZoomEvent<HTMLCanvasElement, unknown>) => {
        this.#transform = event.transform;
        this.#tooltip.hidden = true;
        this.requestDraw();
        if (event.sourceEvent) this.#fitted = true;
        this.#options.onTransform?.({
          x: event.transform.x,
          y: event.transform.y,
          k: event.transform.k,
        });
      });

    const canvas = select(this.#canvas);
    // Dragging a node moves it; dragging the background pans (the zoom behaviour below). The drag
    // comes first, so that it sees the pointer before the zoom does.
    canvas.call(
      drag<HTMLCanvasElement, unknown, NodeDatum | undefined>()
        .container(this.#canvas)
        .subject((event: MouseEvent) => this.#nodeAt(event.offsetX, event.offsetY))
        .on('drag', (event: D3DragEvent<HTMLCanvasElement, unknown, NodeDatum>) => {
          const n = event.subject;
          const [x, y] = this.#transform.invert([event.x, event.y]);
          n.fx = x;
          n.fy = y;
          n.x = x;
          n.y = y;
          this.#reheat(0.1);
        })
        .on('end', (event: D3DragEvent<HTMLCanvasElement, unknown, NodeDatum>) => {
          // A node put down by hand stays where it was put.
          this.#data.pin(event.subject);
        }),
    );
    canvas.call(this.#zoom);
    this.#canvas.addEventListener('click', (event) => {
      const n = this.#nodeAt(event.offsetX, event.offsetY);
      this.#options.onSelect(n?.key);
    });
    this.#canvas.addEventListener('mousemove', (event) => this.#hoverAt(event));
    this.#canvas.addEventListener('mouseleave', () => {
      this.#hover = undefined;
      this.#tooltip.hidden = true;
      this.requestDraw();
    });
  }

  /** Draws another picture. Nodes already drawn keep their place; new ones join their group. */
  setPicture(picture: Picture): void {
    this.#picture = picture;
    const { nodes, links, added, removed, changed } = this.#data.join(picture);
    const topology = added > 0 || removed > 0 || links.length !== this.#links.length;
    this.#nodes = nodes;
    this.#links = links;
    placeClusters(nodes);
    if (added > 0) seed(nodes, links, added === nodes.length);
    this.#simulation.nodes(nodes);
    // Order edges draw, but do not pull: they join resources that may be far apart in the graph.
    this.#linkForce.links(links.filter((l) => l.data.type !== 'order'));
    if (added === nodes.length && nodes.length > 0) {
      // A fresh graph is laid out before its first paint, so it does not unfold on screen; a large
      // one gets fewer steps here and finishes moving while drawn.
      const ticks = Math.round(Math.min(300, Math.max(40, 60_000 / nodes.length)));
      this.#simulation.alpha(1);
      for (let i = 0; i < ticks; i++) this.#simulation.tick();
      this.requestDraw();
    } else if (topology || changed) {
      this.#reheat(added > 0 ? 0.3 : 0.12);
    }
    this.#hulls = [];
    this.#updateMatches();
    if (!this.#fitted) this.#fitNow();
    this.requestDraw();
  }

  /** Highlights the nodes whose name contains `query` (case-insensitive) and dims the others. */
  setSearch(query: string): void {
    this.#search = query.trim().toLowerCase();
    this.#matchCursor = -1;
    this.#updateMatches();
    this.requestDraw();
  }

  /** The keys of the nodes the search matches. */
  get matches(): string[] {
    return this.#nodes.filter((n) => this.#matches.has(n.key)).map((n) => n.key);
  }

  /** Centres the next node the search matches, and returns its key. */
  revealNextMatch(): string | undefined {
    const keys = this.matches;
    if (keys.length === 0) return undefined;
    this.#matchCursor = (this.#matchCursor + 1) % keys.length;
    const key = keys[this.#matchCursor]!;
    this.reveal(key);
    return key;
  }

  /** Focuses a node's neighbourhood: the node, its edges and the nodes at their other ends. */
  setSelected(key: string | undefined): void {
    this.#selected = key;
    this.#updateFocus();
    this.requestDraw();
  }

  /** Pans (without zooming out) so that the node is in view. */
  reveal(key: string): void {
    const n = this.#data.byKey.get(key);
    if (!n) return;
    this.#fitted = true;
    const k = Math.max(this.#transform.k, 0.8);
    const t = zoomIdentity
      .translate(this.#width / 2, this.#height / 2)
      .scale(k)
      .translate(-n.x, -n.y);
    this.#zoom.transform(select(this.#canvas).transition().duration(250), t);
  }

  /** Fits the whole graph into the view, and keeps it fitted while the layout moves. */
  fit(): void {
    this.#fitted = false;
    this.#fitNow();
    this.requestDraw();
  }

  #fitNow(): void {
    if (this.#width === 0) this.resize();
    if (this.#nodes.length === 0 || this.#width === 0) return;
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (const n of this.#nodes) {
      const half = Math.max(n.halfWidth, n.labelWidth / 2);
      x0 = Math.min(x0, n.x - half);
      x1 = Math.max(x1, n.x + half);
      y0 = Math.min(y0, n.y - n.halfHeight);
      y1 = Math.max(y1, n.y + n.halfHeight + (n.data.type === 'task' ? 30 : 0));
    }
    // The group outlines and their labels, above them, stay in view too.
    if (this.#hulls.length === 0) this.#hulls = computeHulls(this.#nodes);
    for (const h of this.#hulls) {
      for (const [x, y] of h.points) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y - 18);
        y1 = Math.max(y1, y);
      }
    }
    // A small view (a panel beside the editor) cannot spare fixed margins.
    const pad = Math.min(24, Math.round(Math.min(this.#width, this.#height) * 0.06));
    // The legend sits over the bottom of the view, when it is shown: the graph is fitted above.
    const legend = this.element.parentElement?.querySelector('.ls-graph-legend');
    const bottom = legend && getComputedStyle(legend).display !== 'none' ? 34 : 0;
    const k = Math.min(
      (this.#width - 2 * pad) / Math.max(x1 - x0, 1),
      (this.#height - 2 * pad - bottom) / Math.max(y1 - y0, 1),
      1.4,
    );
    const t = zoomIdentity
      .translate(this.#width / 2, (this.#height - bottom) / 2)
      .scale(Math.max(k, 0.03))
      .translate(-(x0 + x1) / 2, -(y0 + y1) / 2);
    this.#zoom.transform(select(this.#canvas), t);
  }

  /** Restores a saved zoom; the next pictures do not fit the view again. */
  setTransform(t: { x: number; y: number; k: number }): void {
    this.#zoom.transform(select(this.#canvas), zoomIdentity.translate(t.x, t.y).scale(t.k));
    this.#fitted = true;
  }

  /** Pans by a number of pixels (keyboard, benchmarks). */
  panBy(dx: number, dy: number): void {
    this.#fitted = true;
    const k = this.#transform.k;
    this.#zoom.translateBy(select(this.#canvas), dx / k, dy / k);
  }

  /** Starts the layout moving again (benchmarks measure the frame rate while it moves). */
  reheat(alpha = 0.5): void {
    this.#reheat(alpha);
  }

  resize(): void {
    const r = this.element.getBoundingClientRect();
    const w = Math.floor(r.width);
    const h = Math.floor(r.height);
    if (w === this.#width && h === this.#height) return;
    this.#width = w;
    this.#height = h;
    this.#ctx = sizeCanvas(this.#canvas, w, h);
    this.#zoom.extent([
      [0, 0],
      [w, h],
    ]);
    if (!this.#fitted) this.#fitNow();
    this.requestDraw();
  }

  /** Reads the theme's colours again and redraws. */
  retheme(): void {
    this.#theme = readTheme(this.element);
    for (const n of this.#nodes) measureNode(this.#ctx, this.#theme, n);
    this.requestDraw();
  }

  /**
   * What the last frame drew, in CSS pixels of the canvas. Built when asked for (by tests and
   * benchmarks), not per frame, so that drawing allocates nothing for it.
   */
  get debug(): GraphDebug {
    const t = this.#transform;
    const probe = this.#ctx;
    const normalise = (colour: string): string => {
      probe.strokeStyle = colour;
      return String(probe.strokeStyle);
    };
    const edges: GraphDebug['edges'] = [];
    for (const l of this.#links) {
      const seg = segment(l);
      if (!seg || !l.drawnColour) continue;
      const [x1, y1] = t.apply([seg[0], seg[1]]);
      const [x2, y2] = t.apply([seg[2], seg[3]]);
      const { type, cycle } = l.data;
      const colour = normalise(l.drawnColour);
      edges.push({
        source: l.source.key,
        target: l.target.key,
        type,
        cycle,
        colour,
        x1,
        y1,
        x2,
        y2,
      });
    }
    const sim = this.#simulation;
    return {
      nodes: this.#nodes.map((n) => {
        const [x, y] = t.apply([n.x, n.y]);
        const { type, cycle } = n.data;
        return { key: n.key, type, x, y, cycle, dimmed: this.#dimmed(n.key) };
      }),
      edges,
      cycleLabels: this.#cycleLabels.map(([x, y]) => {
        const [sx, sy] = t.apply([x, y]);
        return { text: 'deadlock', x: sx, y: sy };
      }),
      settled: sim.alpha() < sim.alphaMin(),
      frames: this.#frames,
    };
  }

  destroy(): void {
    cancelAnimationFrame(this.#frame);
    this.#simulation.stop();
    select(this.#canvas).on('.zoom', null).on('.drag', null);
    this.element.remove();
  }

  requestDraw(): void {
    if (this.#frame) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.#step();
    });
  }

  // -------------------------------------------------------------------------------------------

  #reheat(alpha: number): void {
    if (this.#simulation.alpha() < alpha) this.#simulation.alpha(alpha);
    this.requestDraw();
  }

  #step(): void {
    const sim = this.#simulation;
    const moving = sim.alpha() >= sim.alphaMin();
    if (moving) {
      sim.tick();
      this.#hulls = [];
      // Until the user zooms, the camera follows the layout as it spreads.
      if (!this.#fitted) this.#fitNow();
    }
    if (this.#hulls.length === 0) this.#hulls = computeHulls(this.#nodes);
    this.#cycleLabels = paintGraph({
      ctx: this.#ctx,
      theme: this.#theme,
      transform: this.#transform,
      width: this.#width,
      height: this.#height,
      nodes: this.#nodes,
      links: this.#links,
      hulls: this.#hulls,
      cycles: (this.#picture?.cycles ?? []).map((c) =>
        c.nodes.map((k) => this.#data.byKey.get(k)).filter((n) => n !== undefined),
      ),
      selected: this.#selected,
      matches: this.#matches,
      hover: this.#hover,
      dimmed: (key) => this.#dimmed(key),
    });
    this.#frames++;
    // While the layout moves, the next frame is asked for straight away.
    if (sim.alpha() >= sim.alphaMin()) this.requestDraw();
  }

  #updateMatches(): void {
    this.#matches.clear();
    if (this.#search) {
      for (const n of this.#nodes) {
        if (n.data.label.toLowerCase().includes(this.#search)) this.#matches.add(n.key);
      }
    }
    this.#updateFocus();
  }

  #updateFocus(): void {
    this.#focus.clear();
    const key = this.#selected;
    if (key === undefined || !this.#data.byKey.has(key)) return;
    this.#focus.add(key);
    for (const l of this.#links) {
      if (l.source.key === key) this.#focus.add(l.target.key);
      if (l.target.key === key) this.#focus.add(l.source.key);
    }
  }

  #dimmed(key: string): boolean {
    if (this.#focus.size > 0 && !this.#focus.has(key)) return true;
    return this.#search !== '' && !this.#matches.has(key);
  }

  #nodeAt(sx: number, sy: number): NodeDatum | undefined {
    const [x, y] = this.#transform.invert([sx, sy]);
    // Last drawn is on top, so the search goes backwards.
    for (let i = this.#nodes.length - 1; i >= 0; i--) {
      const n = this.#nodes[i]!;
      const dx = x - n.x;
      const dy = y - n.y;
      if (n.data.type === 'task') {
        if (dx * dx + dy * dy <= (TASK_RADIUS + 3) ** 2) return n;
      } else if (Math.abs(dx) <= n.halfWidth && Math.abs(dy) <= n.halfHeight) {
        return n;
      }
    }
    return undefined;
  }

  #hoverAt(event: MouseEvent): void {
    const n = this.#nodeAt(event.offsetX, event.offsetY);
    if (n !== this.#hover) {
      this.#hover = n;
      this.requestDraw();
    }
    this.#canvas.style.cursor = n ? 'pointer' : '';
    if (!n) {
      this.#tooltip.hidden = true;
      return;
    }
    const lines = tooltipLines(n, this.#links);
    showTooltip(this.#tooltip, lines, event.offsetX, event.offsetY, this.#width, this.#height);
  }
}
