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
 */
import {
  curveCatmullRomClosed,
  drag,
  forceCollide,
  forceLink,
  forceManyBody,
  forceSimulation,
  forceX,
  forceY,
  line,
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
import type { Picture, PictureNode } from '../model/picture.js';
import { showTooltip } from './common.js';
import { glyph2D } from './glyphs.js';
import {
  computeHulls,
  labelPlace,
  placeClusters,
  RESOURCE_HALF_HEIGHT,
  room,
  seed,
  segment,
  TASK_RADIUS,
  type Hull,
  type LinkDatum,
  type NodeDatum,
} from './graph-layout.js';
import { readTheme, sizeCanvas, withAlpha, type Theme } from './theme.js';
import type { GraphDebug } from '../debug.js';

export interface GraphViewOptions {
  /** `zoom`: the wheel zooms (a panel of its own); `ctrl`: only with Ctrl or Cmd (a long page). */
  wheel: 'zoom' | 'ctrl';
  /** A node was clicked (its key), or the background (undefined). */
  onSelect(key: string | undefined): void;
  /** The zoom changed, by the user or by `fit()`. */
  onTransform?(t: { x: number; y: number; k: number }): void;
}

const ARROW = 8;
/** Positions remembered for nodes that left the picture, so they come back to the same place. */
const MEMORY = 5000;
/** Above this many nodes, labels are drawn only when zoomed in enough to read them. */
const LABEL_LIMIT = 150;

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
  readonly #byKey = new Map<string, NodeDatum>();
  readonly #memory = new Map<string, { x: number; y: number }>();
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
          this.#memory.set(event.subject.key, { x: event.subject.x, y: event.subject.y });
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
    const previous = this.#byKey;
    const next = new Map<string, NodeDatum>();
    const nodes: NodeDatum[] = [];
    let added = 0;
    let changed = false;
    for (const data of picture.nodes) {
      let n = previous.get(data.key);
      if (!n) {
        n = this.#newNode(data);
        added++;
      } else if (n.data.label !== data.label || n.data.detail !== data.detail) {
        n.data = data;
        this.#measure(n);
        changed = true;
      } else {
        n.data = data;
      }
      next.set(data.key, n);
      nodes.push(n);
    }
    let removed = 0;
    for (const [key, n] of previous) {
      if (!next.has(key)) {
        removed++;
        this.#remember(key, n);
      }
    }
    previous.clear();
    for (const [k, n] of next) previous.set(k, n);

    const links: LinkDatum[] = [];
    const pairs = new Set(picture.edges.map((e) => `${e.source}|${e.target}`));
    for (const e of picture.edges) {
      const source = next.get(e.source);
      const target = next.get(e.target);
      if (!source || !target) continue;
      links.push({
        key: e.key,
        data: e,
        source,
        target,
        offset: pairs.has(`${e.target}|${e.source}`) ? 5 : 0,
      });
    }
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
    const n = this.#byKey.get(key);
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
    for (const n of this.#nodes) this.#measure(n);
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
    this.#draw();
    this.#frames++;
    // While the layout moves, the next frame is asked for straight away.
    if (sim.alpha() >= sim.alphaMin()) this.requestDraw();
  }

  #newNode(data: PictureNode): NodeDatum {
    const old = this.#memory.get(data.key);
    const n: NodeDatum = {
      key: data.key,
      data,
      x: old?.x ?? NaN,
      y: old?.y ?? NaN,
      halfWidth: TASK_RADIUS,
      halfHeight: TASK_RADIUS,
      labelWidth: 0,
      detailWidth: 0,
      targetX: 0,
      targetY: 0,
    };
    if (old) this.#memory.delete(data.key);
    this.#measure(n);
    return n;
  }

  #remember(key: string, n: NodeDatum): void {
    this.#memory.set(key, { x: n.x, y: n.y });
    if (this.#memory.size > MEMORY) {
      // Maps iterate in insertion order: the first key is the one forgotten longest ago.
      this.#memory.delete(this.#memory.keys().next().value!);
    }
  }

  #measure(n: NodeDatum): void {
    const ctx = this.#ctx;
    ctx.font = `600 12px ${this.#theme.font}`;
    n.labelWidth = ctx.measureText(n.data.label).width;
    ctx.font = `11px ${this.#theme.font}`;
    n.detailWidth = ctx.measureText(n.data.detail).width;
    if (n.data.type === 'task') {
      n.halfWidth = TASK_RADIUS;
      n.halfHeight = TASK_RADIUS;
    } else {
      // The icon, then the name and the kind under it.
      n.halfWidth = Math.min(Math.max(n.labelWidth, n.detailWidth) + 26, 260) / 2 + 8;
      n.halfHeight = RESOURCE_HALF_HEIGHT;
    }
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
    if (key === undefined || !this.#byKey.has(key)) return;
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
    const d = n.data;
    const lines =
      d.type === 'task'
        ? [d.label, `${d.detail} · process ${d.pid}, thread ${d.thread}`]
        : [d.label, `${d.kind} · process ${d.pid}`];
    const edges = this.#links.filter((l) => l.source === n || l.target === n);
    for (const l of edges.slice(0, 6)) lines.push(edgeText(l));
    if (edges.length > 6) lines.push(`and ${edges.length - 6} more`);
    showTooltip(this.#tooltip, lines, event.offsetX, event.offsetY, this.#width, this.#height);
  }

  #draw(): void {
    const ctx = this.#ctx;
    const theme = this.#theme;
    const t = this.#transform;
    const hc = theme.highContrast;
    ctx.save();
    ctx.clearRect(0, 0, this.#width, this.#height);
    ctx.translate(t.x, t.y);
    ctx.scale(t.k, t.k);

    const view = this.#visibleBox();

    this.#drawHulls(ctx, theme, t.k);

    // Edges, grouped by style so that each group is one path.
    type Style = { colour: string; width: number; dash: number[]; alpha: number };
    const buckets = new Map<string, { style: Style; links: LinkDatum[] }>();
    const lineScale = hc ? 1.5 : 1;
    for (const l of this.#links) {
      const dim = this.#dimmed(l.source.key) || this.#dimmed(l.target.key);
      const cycle = l.data.cycle;
      const type = l.data.type;
      const style: Style = {
        colour: cycle ? theme.error : type === 'order' ? theme.warning : theme.edge,
        width: (cycle ? 2.5 : type === 'order' ? 1.8 : 1.4) * lineScale,
        dash: type === 'waits' ? [6, 4] : type === 'order' ? [2, 4] : [],
        alpha: dim ? 0.15 : 1,
      };
      const id = `${style.colour}|${style.width}|${style.dash.join(',')}|${style.alpha}`;
      const b = buckets.get(id) ?? buckets.set(id, { style, links: [] }).get(id)!;
      b.links.push(l);
    }
    // Plain edges first and cycle edges last, so that a cycle is never drawn under another edge.
    const ordered = [...buckets.values()].sort(
      (a, b) =>
        Number(a.style.colour === theme.error) - Number(b.style.colour === theme.error) ||
        b.style.alpha - a.style.alpha,
    );
    for (const { style, links } of ordered) {
      ctx.globalAlpha = style.alpha;
      ctx.strokeStyle = style.colour;
      ctx.fillStyle = style.colour;
      ctx.lineWidth = style.width;
      ctx.setLineDash(style.dash);
      const heads = new Path2D();
      ctx.beginPath();
      for (const l of links) {
        const seg = segment(l);
        if (!seg) continue;
        const [x0, y0, x1, y1] = seg;
        ctx.moveTo(x0, y0);
        ctx.lineTo(x1, y1);
        arrowHead(heads, x0, y0, x1, y1, ARROW + (l.data.cycle ? 2 : 0));
        l.drawnColour = style.colour;
      }
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fill(heads);
    }
    ctx.globalAlpha = 1;

    // Nodes: circles for tasks, boxes for resources.
    const labels = this.#nodes.length <= LABEL_LIMIT || t.k >= 0.75;
    for (const pass of ['task', 'resource'] as const) {
      for (const n of this.#nodes) {
        if (n.data.type !== pass) continue;
        if (
          n.x + n.halfWidth < view[0] ||
          n.x - n.halfWidth > view[2] ||
          n.y + n.halfHeight + 30 < view[1] ||
          n.y - n.halfHeight > view[3]
        ) {
          continue;
        }
        const dim = this.#dimmed(n.key);
        ctx.globalAlpha = dim ? 0.2 : 1;
        if (pass === 'task') this.#drawTask(ctx, n, labels || this.#emphasised(n));
        else this.#drawResource(ctx, n, labels || this.#emphasised(n) || t.k >= 0.4);
      }
    }
    ctx.globalAlpha = 1;

    // Rings: the selected node, the search matches and the node under the pointer.
    for (const n of this.#nodes) {
      const selected = n.key === this.#selected;
      const match = this.#matches.has(n.key);
      if (!selected && !match && n !== this.#hover) continue;
      ctx.strokeStyle = selected || match ? theme.selection : theme.muted;
      ctx.lineWidth = (selected ? 2.5 : 1.5) / Math.min(t.k, 1);
      ctx.setLineDash(match && !selected ? [4, 3] : []);
      ctx.beginPath();
      if (n.data.type === 'task') ctx.arc(n.x, n.y, TASK_RADIUS + 5, 0, 2 * Math.PI);
      else
        ctx.roundRect(
          n.x - n.halfWidth - 4,
          n.y - n.halfHeight - 4,
          2 * n.halfWidth + 8,
          2 * n.halfHeight + 8,
          10,
        );
      ctx.stroke();
      ctx.setLineDash([]);
    }

    // One label per deadlock cycle, inside the ring the cycle forms.
    const cycleLabels: [number, number][] = [];
    ctx.font = `700 ${15}px ${theme.font}`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = theme.error;
    for (const c of this.#picture?.cycles ?? []) {
      const members = c.nodes.map((k) => this.#byKey.get(k)).filter((n) => n !== undefined);
      if (members.length === 0) continue;
      const [x, y] = labelPlace(members, this.#nodes);
      drawSpaced(ctx, 'DEADLOCK', x, y, 1.2);
      cycleLabels.push([x, y]);
    }
    ctx.restore();
    this.#cycleLabels = cycleLabels;
  }

  #emphasised(n: NodeDatum): boolean {
    return (
      n.data.cycle || n.key === this.#selected || this.#matches.has(n.key) || n === this.#hover
    );
  }

  /** The part of the plane in view, as [x0, y0, x1, y1]. */
  #visibleBox(): [number, number, number, number] {
    const [x0, y0] = this.#transform.invert([0, 0]);
    const [x1, y1] = this.#transform.invert([this.#width, this.#height]);
    return [x0, y0, x1, y1];
  }

  #drawTask(ctx: CanvasRenderingContext2D, n: NodeDatum, label: boolean): void {
    const theme = this.#theme;
    const colour = n.data.cycle ? theme.error : theme.task;
    const blocked = n.data.detail === 'blocked';
    ctx.beginPath();
    ctx.arc(n.x, n.y, TASK_RADIUS, 0, 2 * Math.PI);
    ctx.fillStyle = theme.bg;
    ctx.fill();
    ctx.fillStyle = withAlpha(ctx, colour, blocked ? 0.28 : 0.55);
    ctx.fill();
    ctx.strokeStyle = colour;
    ctx.lineWidth = theme.highContrast ? 3 : 2;
    ctx.stroke();
    if (blocked) {
      // Two bars: the task is paused, waiting.
      ctx.fillStyle = colour;
      ctx.fillRect(n.x - 4.5, n.y - 5, 3, 10);
      ctx.fillRect(n.x + 1.5, n.y - 5, 3, 10);
    }
    if (!label) return;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.lineJoin = 'round';
    ctx.font = `600 12px ${theme.font}`;
    ctx.lineWidth = 3;
    ctx.strokeStyle = theme.bg;
    ctx.strokeText(n.data.label, n.x, n.y + TASK_RADIUS + 12);
    ctx.fillStyle = theme.fg;
    ctx.fillText(n.data.label, n.x, n.y + TASK_RADIUS + 12);
    ctx.font = `11px ${theme.font}`;
    ctx.strokeText(n.data.detail, n.x, n.y + TASK_RADIUS + 25);
    ctx.fillStyle = theme.muted;
    ctx.fillText(n.data.detail, n.x, n.y + TASK_RADIUS + 25);
  }

  #drawResource(ctx: CanvasRenderingContext2D, n: NodeDatum, label: boolean): void {
    const theme = this.#theme;
    const x = n.x - n.halfWidth;
    const y = n.y - n.halfHeight;
    ctx.beginPath();
    ctx.roundRect(x, y, 2 * n.halfWidth, 2 * n.halfHeight, 7);
    ctx.fillStyle = theme.node;
    ctx.fill();
    ctx.strokeStyle = n.data.cycle ? theme.error : theme.nodeBorder;
    ctx.lineWidth = n.data.cycle ? 2.5 : theme.highContrast ? 2 : 1.2;
    ctx.stroke();
    // The icon, in the resource's colour: the colour its bars have in the timeline.
    ctx.save();
    ctx.translate(x + 7, n.y - 8);
    ctx.strokeStyle = theme.palette[n.data.colour] ?? theme.fg;
    ctx.lineWidth = 1.5;
    ctx.lineJoin = 'round';
    ctx.lineCap = 'round';
    ctx.stroke(glyph2D(n.data.kind));
    ctx.restore();
    if (!label) return;
    const textX = x + 28;
    const maxWidth = 2 * n.halfWidth - 34;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    ctx.font = `600 12px ${theme.font}`;
    ctx.fillStyle = theme.fg;
    ctx.fillText(n.data.label, textX, n.y - 5, maxWidth);
    ctx.font = `11px ${theme.font}`;
    ctx.fillStyle = theme.muted;
    ctx.fillText(n.data.detail, textX, n.y + 8, maxWidth);
  }

  #drawHulls(ctx: CanvasRenderingContext2D, theme: Theme, k: number): void {
    if (this.#hulls.length === 0) this.#hulls = computeHulls(this.#nodes);
    if (this.#hulls.length === 0) return;
    ctx.lineJoin = 'round';
    const outline = line<[number, number]>().curve(curveCatmullRomClosed.alpha(0.5)).context(ctx);
    for (const h of this.#hulls) {
      ctx.beginPath();
      outline(h.points);
      ctx.fillStyle = withAlpha(ctx, theme.hull, theme.light ? 0.05 : 0.07);
      ctx.fill();
      ctx.strokeStyle = withAlpha(ctx, theme.hull, 0.35);
      ctx.lineWidth = 1 / Math.min(k, 1);
      ctx.setLineDash([5, 4]);
      ctx.stroke();
      ctx.setLineDash([]);
      let top = h.points[0]!;
      for (const p of h.points) if (p[1] < top[1]) top = p;
      ctx.font = `11px ${theme.font}`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'bottom';
      ctx.fillStyle = theme.muted;
      ctx.fillText(h.label, top[0], top[1] - 4);
    }
  }
}

function arrowHead(path: Path2D, x0: number, y0: number, x1: number, y1: number, size: number) {
  const angle = Math.atan2(y1 - y0, x1 - x0);
  const back = Math.cos(angle);
  const side = Math.sin(angle);
  path.moveTo(x1, y1);
  path.lineTo(x1 - size * back + (size / 2.2) * side, y1 - size * side - (size / 2.2) * back);
  path.lineTo(x1 - size * back - (size / 2.2) * side, y1 - size * side + (size / 2.2) * back);
  path.closePath();
}

/** Text with letter spacing, which a canvas does not offer everywhere. */
function drawSpaced(
  ctx: CanvasRenderingContext2D,
  text: string,
  x: number,
  y: number,
  spacing: number,
): void {
  const widths = [...text].map((c) => ctx.measureText(c).width);
  const total = widths.reduce((s, w) => s + w, 0) + spacing * (text.length - 1);
  let at = x - total / 2;
  ctx.textAlign = 'left';
  [...text].forEach((c, i) => {
    ctx.fillText(c, at, y);
    at += widths[i]! + spacing;
  });
  ctx.textAlign = 'center';
}

function edgeText(l: LinkDatum): string {
  const s = l.source.data.label;
  const t = l.target.data.label;
  const cycle = l.data.cycle ? ' (deadlock)' : '';
  switch (l.data.type) {
    case 'holds':
      return `${t} holds ${s}${cycle}`;
    case 'waits':
      return `waits for ${t}${cycle}`;
    case 'order':
      return `${s} taken before ${t}, and the other way round elsewhere`;
  }
}
