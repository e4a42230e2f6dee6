/**
 * The wait-for graph's data join: each node keeps its datum (and so its place) across pictures,
 * keyed by the picture's node keys, and a node that leaves and comes back (scrubbing back and
 * forth) returns to where it was.
 */
import type { Picture, PictureNode } from '../model/picture.js';
import {
  RESOURCE_HALF_HEIGHT,
  TASK_RADIUS,
  type LinkDatum,
  type NodeDatum,
} from './graph-layout.js';
import type { Theme } from './theme.js';

/** Positions remembered for nodes that left the picture, so they come back to the same place. */
const MEMORY = 5000;

/** What joining a picture changed. */
export interface Joined {
  nodes: NodeDatum[];
  links: LinkDatum[];
  added: number;
  removed: number;
  /** A node kept its place but changed its label or detail. */
  changed: boolean;
}

export class GraphData {
  readonly byKey = new Map<string, NodeDatum>();
  readonly #memory = new Map<string, { x: number; y: number }>();
  readonly #measure: (n: NodeDatum) => void;

  constructor(measure: (n: NodeDatum) => void) {
    this.#measure = measure;
  }

  /** Joins a picture to the nodes drawn so far. */
  join(picture: Picture): Joined {
    const previous = this.byKey;
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
    return { nodes, links, added, removed, changed };
  }

  /** A node put down by hand stays where it was put, even after it leaves the picture. */
  pin(n: NodeDatum): void {
    this.#memory.set(n.key, { x: n.x, y: n.y });
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
}

/** Sizes a node for its label and detail in the theme's font. */
export function measureNode(ctx: CanvasRenderingContext2D, theme: Theme, n: NodeDatum): void {
  ctx.font = `600 12px ${theme.font}`;
  n.labelWidth = ctx.measureText(n.data.label).width;
  ctx.font = `11px ${theme.font}`;
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
