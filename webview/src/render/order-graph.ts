/**
 * The lock-order graph: every lock taken while another was held, as an arrow from the lock held
 * to the lock taken. Orders on a reported inversion (two tasks took the same two locks in
 * opposite orders: a deadlock waiting to happen) are drawn in the warning colour and thicker; a
 * pair taken both ways is drawn as two arcs so both directions show.
 *
 * SVG, because the graph has one node per lock that was ever nested, usually a handful, and SVG
 * keeps its text crisp and selectable. The layout is computed once per report, synchronously and
 * deterministically.
 */
import {
  forceCollide,
  forceLink,
  forceManyBody,
  forceSimulation,
  forceX,
  forceY,
  select,
  zoom,
  zoomIdentity,
  type D3ZoomEvent,
  type Selection,
  type SimulationLinkDatum,
  type SimulationNodeDatum,
  type ZoomBehavior,
} from 'd3';
import type { Model } from '../model/model.js';
import { colourVar } from './common.js';
import { glyphPath } from './glyphs.js';

export interface OrderGraphOptions {
  wheel: 'zoom' | 'ctrl';
  onSelect(key: string | undefined): void;
}

interface Node extends SimulationNodeDatum {
  key: string;
  label: string;
  kind: string;
  colour: number;
  inversion: boolean;
  width: number;
  x: number;
  y: number;
}

interface Link extends SimulationLinkDatum<Node> {
  source: Node;
  target: Node;
  inversion: boolean;
  both: boolean;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export class OrderGraphView {
  readonly element: HTMLDivElement;
  readonly #options: OrderGraphOptions;
  readonly #svg: Selection<SVGSVGElement, unknown, null, undefined>;
  readonly #viewport: Selection<SVGGElement, unknown, null, undefined>;
  readonly #zoom: ZoomBehavior<SVGSVGElement, unknown>;
  readonly #empty: HTMLParagraphElement;
  #signature = '';
  #model: Model | undefined;
  /** True when the last layout ran hidden, with label widths estimated instead of measured. */
  #estimated = false;
  #nodes: Node[] = [];
  #selected: string | undefined;

  constructor(parent: HTMLElement, options: OrderGraphOptions) {
    this.#options = options;
    this.element = parent.appendChild(document.createElement('div'));
    this.element.className = 'ls-order';
    this.#empty = this.element.appendChild(document.createElement('p'));
    this.#empty.className = 'ls-empty ls-centre';
    const hint = this.element.appendChild(document.createElement('p'));
    hint.className = 'ls-legend ls-graph-legend';
    hint.textContent =
      'An arrow from A to B: B was taken while A was held. In the warning colour: two locks ' +
      'taken in both orders by different tasks, a deadlock waiting to happen.';
    this.#svg = select(this.element.appendChild(document.createElementNS(SVG_NS, 'svg')));
    this.#svg.attr('role', 'img').attr('aria-label', 'Lock-order graph');
    const defs = this.#svg.append('defs');
    for (const kind of ['plain', 'inversion']) {
      defs
        .append('marker')
        .attr('id', `ls-order-${kind}`)
        .attr('viewBox', '0 -5 10 10')
        .attr('refX', 10)
        .attr('markerUnits', 'userSpaceOnUse')
        .attr('markerWidth', 9)
        .attr('markerHeight', 9)
        .attr('orient', 'auto')
        .append('path')
        .attr('class', `ls-order-arrow ${kind}`)
        .attr('d', 'M0,-4.5L10,0L0,4.5Z');
    }
    this.#viewport = this.#svg.append('g');
    this.#zoom = zoom<SVGSVGElement, unknown>()
      .scaleExtent([0.1, 6])
      .filter((event: MouseEvent | WheelEvent) => {
        if (event.type === 'dblclick') return false;
        if (event.type === 'wheel')
          return options.wheel === 'zoom' || event.ctrlKey || event.metaKey;
        return !event.button;
      })
      .on('zoom', (event: D3ZoomEvent<SVGSVGElement, unknown>) => {
        this.#viewport.attr('transform', event.transform.toString());
      });
    this.#svg.call(this.#zoom);
    this.#svg.on('click', (event: MouseEvent) => {
      if (event.target === this.#svg.node()) this.#options.onSelect(undefined);
    });
  }

  /** Draws the report's lock orders; does nothing when they have not changed. */
  setModel(model: Model): void {
    const order = model.report.graph.order;
    const signature = order.map((o) => `${o.from}>${o.to}${o.inversion ? '!' : ''}`).join(' ');
    if (signature === this.#signature) return;
    this.#signature = signature;
    this.#empty.textContent =
      order.length === 0 ? 'No lock was taken while another was held, so no order to show.' : '';
    this.#empty.hidden = order.length > 0;
    this.#model = model;
    this.#layout(model);
    this.fit();
  }

  setSelected(key: string | undefined): void {
    this.#selected = key;
    this.#viewport
      .selectAll<SVGGElement, Node>('g.ls-order-node')
      .classed('selected', (d) => d.key === key);
  }

  fit(): void {
    const r = this.element.getBoundingClientRect();
    if (this.#nodes.length === 0 || r.width === 0) return;
    // Laid out while the tab was hidden: now the labels can be measured.
    if (this.#estimated && this.#model) this.#layout(this.#model);
    let x0 = Infinity;
    let x1 = -Infinity;
    let y0 = Infinity;
    let y1 = -Infinity;
    for (const n of this.#nodes) {
      x0 = Math.min(x0, n.x - n.width / 2);
      x1 = Math.max(x1, n.x + n.width / 2);
      y0 = Math.min(y0, n.y - 20);
      y1 = Math.max(y1, n.y + 20);
    }
    const k = Math.min((r.width - 40) / (x1 - x0 || 1), (r.height - 40) / (y1 - y0 || 1), 1.4);
    this.#zoom.transform(
      this.#svg,
      zoomIdentity
        .translate(r.width / 2, r.height / 2)
        .scale(Math.max(k, 0.1))
        .translate(-(x0 + x1) / 2, -(y0 + y1) / 2),
    );
  }

  #layout(model: Model): void {
    const order = model.report.graph.order;
    const byKey = new Map<string, Node>();
    const node = (key: string): Node => {
      let n = byKey.get(key);
      if (!n) {
        const r = model.resourceIndex.get(key);
        const info = r === undefined ? undefined : model.resources[r];
        n = {
          key,
          label: info?.name ?? key,
          kind: info?.kind ?? 'mutex',
          colour: info?.colour ?? 0,
          inversion: false,
          width: 0,
          x: 0,
          y: 0,
        };
        byKey.set(key, n);
      }
      return n;
    };
    const pairs = new Set(order.map((o) => `${o.from}>${o.to}`));
    const links: Link[] = order.map((o) => {
      const source = node(o.from);
      const target = node(o.to);
      if (o.inversion) source.inversion = target.inversion = true;
      return { source, target, inversion: o.inversion, both: pairs.has(`${o.to}>${o.from}`) };
    });
    const nodes = [...byKey.values()];
    // Seeded on a circle, then relaxed: the same report always gives the same picture.
    nodes.forEach((n, i) => {
      const angle = (2 * Math.PI * i) / nodes.length - Math.PI / 2;
      const radius = Math.max(90, (nodes.length * 90) / (2 * Math.PI));
      n.x = radius * Math.cos(angle);
      n.y = radius * Math.sin(angle);
    });

    const v = this.#viewport;
    v.selectAll('*').remove();
    const edgeLayer = v.append('g');
    const nodeLayer = v.append('g');
    const groups = nodeLayer
      .selectAll<SVGGElement, Node>('g')
      .data(nodes, (d) => d.key)
      .join('g')
      .attr('class', (d) => `ls-order-node${d.inversion ? ' inversion' : ''}`)
      .attr('tabindex', 0)
      .on('click', (event: MouseEvent, d) => {
        event.stopPropagation();
        this.#options.onSelect(d.key);
      });
    groups.append('title').text((d) => `${d.label} (${d.kind})`);
    const rects = groups.append('rect').attr('rx', 6).attr('height', 30).attr('y', -15);
    groups
      .append('path')
      .attr('class', 'ls-order-glyph')
      .attr('d', (d) => glyphPath(d.kind))
      .style('stroke', (d) => colourVar(d.colour));
    const texts = groups
      .append('text')
      .attr('dominant-baseline', 'central')
      .text((d) => d.label);
    let estimated = false;
    texts.each(function (d) {
      const measured = this.getComputedTextLength();
      if (measured === 0) estimated = true;
      d.width = (measured || d.label.length * 7) + 42;
    });
    this.#estimated = estimated;
    rects.attr('x', (d) => -d.width / 2).attr('width', (d) => d.width);
    groups.select('path').attr('transform', (d) => `translate(${-d.width / 2 + 8},-8)`);
    texts.attr('x', (d) => -d.width / 2 + 30);

    const simulation = forceSimulation<Node, Link>(nodes)
      .force(
        'link',
        forceLink<Node, Link>(links)
          .distance((l) => (l.source.width + l.target.width) / 2 + 60)
          .strength(0.4),
      )
      .force('charge', forceManyBody<Node>().strength(-600))
      .force(
        'collide',
        forceCollide<Node>((n) => n.width / 2 + 12),
      )
      .force('x', forceX<Node>(0).strength(0.05))
      .force('y', forceY<Node>(0).strength(0.05))
      .stop();
    for (let i = 0; i < 300; i++) simulation.tick();

    groups.attr('transform', (d) => `translate(${d.x},${d.y})`);
    edgeLayer
      .selectAll('path')
      .data(links)
      .join('path')
      .attr('class', (d) => `ls-order-edge${d.inversion ? ' inversion' : ''}`)
      .attr('marker-end', (d) => `url(#ls-order-${d.inversion ? 'inversion' : 'plain'})`)
      .attr('d', (d) => arc(d))
      .append('title')
      .text(
        (d) =>
          `${d.source.label} held while ${d.target.label} was taken` +
          (d.inversion ? ' (on a reported inversion)' : ''),
      );
    this.#nodes = nodes;
    this.setSelected(this.#selected);
  }
}

/** An edge from border to border; a pair taken both ways bends, so the two arcs do not overlap. */
function arc(l: Link): string {
  const { source: s, target: t } = l;
  const dx = t.x - s.x;
  const dy = t.y - s.y;
  const length = Math.hypot(dx, dy) || 1;
  const ux = dx / length;
  const uy = dy / length;
  const out = boxBorder(s, ux, uy);
  const into = boxBorder(t, -ux, -uy) + 2;
  const x0 = s.x + ux * out;
  const y0 = s.y + uy * out;
  const x1 = t.x - ux * into;
  const y1 = t.y - uy * into;
  if (!l.both) return `M${x0},${y0}L${x1},${y1}`;
  const bend = 28;
  const cx = (x0 + x1) / 2 - uy * bend;
  const cy = (y0 + y1) / 2 + ux * bend;
  return `M${x0},${y0}Q${cx},${cy} ${x1},${y1}`;
}

function boxBorder(n: Node, ux: number, uy: number): number {
  const tx = Math.abs(ux) > 1e-9 ? n.width / 2 / Math.abs(ux) : Infinity;
  const ty = Math.abs(uy) > 1e-9 ? 15 / Math.abs(uy) : Infinity;
  return Math.min(tx, ty) + 1;
}
