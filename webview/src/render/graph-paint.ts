/**
 * Paints one frame of the wait-for graph on its canvas: group hulls, edges grouped by style (one
 * path each, cycle edges last so none is drawn under another edge), nodes, rings for the selected
 * node, the search matches and the hovered node, and one DEADLOCK label per cycle.
 */
import { curveCatmullRomClosed, line, type ZoomTransform } from 'd3';
import { glyph2D } from './glyphs.js';
import {
  labelPlace,
  segment,
  TASK_RADIUS,
  type Hull,
  type LinkDatum,
  type NodeDatum,
} from './graph-layout.js';
import { withAlpha, type Theme } from './theme.js';

const ARROW = 8;
/** Above this many nodes, labels are drawn only when zoomed in enough to read them. */
const LABEL_LIMIT = 150;

/** What one frame shows. */
export interface GraphScene {
  ctx: CanvasRenderingContext2D;
  theme: Theme;
  transform: ZoomTransform;
  width: number;
  height: number;
  nodes: NodeDatum[];
  links: readonly LinkDatum[];
  hulls: Hull[];
  /** The nodes of each deadlock cycle in the picture. */
  cycles: NodeDatum[][];
  selected: string | undefined;
  matches: ReadonlySet<string>;
  hover: NodeDatum | undefined;
  dimmed(key: string): boolean;
}

/** Paints the scene; returns where the cycle labels went, in graph coordinates. */
export function paintGraph(s: GraphScene): [number, number][] {
  const { ctx, theme } = s;
  const t = s.transform;
  const hc = theme.highContrast;
  ctx.save();
  ctx.clearRect(0, 0, s.width, s.height);
  ctx.translate(t.x, t.y);
  ctx.scale(t.k, t.k);

  const view = visibleBox(s);

  drawHulls(ctx, theme, s.hulls, t.k);

  // Edges, grouped by style so that each group is one path.
  type Style = { colour: string; width: number; dash: number[]; alpha: number };
  const buckets = new Map<string, { style: Style; links: LinkDatum[] }>();
  const lineScale = hc ? 1.5 : 1;
  for (const l of s.links) {
    const dim = s.dimmed(l.source.key) || s.dimmed(l.target.key);
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
  const labels = s.nodes.length <= LABEL_LIMIT || t.k >= 0.75;
  for (const pass of ['task', 'resource'] as const) {
    for (const n of s.nodes) {
      if (n.data.type !== pass) continue;
      if (
        n.x + n.halfWidth < view[0] ||
        n.x - n.halfWidth > view[2] ||
        n.y + n.halfHeight + 30 < view[1] ||
        n.y - n.halfHeight > view[3]
      ) {
        continue;
      }
      const dim = s.dimmed(n.key);
      ctx.globalAlpha = dim ? 0.2 : 1;
      if (pass === 'task') drawTask(ctx, theme, n, labels || emphasised(s, n));
      else drawResource(ctx, theme, n, labels || emphasised(s, n) || t.k >= 0.4);
    }
  }
  ctx.globalAlpha = 1;

  // Rings: the selected node, the search matches and the node under the pointer.
  for (const n of s.nodes) {
    const selected = n.key === s.selected;
    const match = s.matches.has(n.key);
    if (!selected && !match && n !== s.hover) continue;
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
  for (const members of s.cycles) {
    if (members.length === 0) continue;
    const [x, y] = labelPlace(members, s.nodes);
    drawSpaced(ctx, 'DEADLOCK', x, y, 1.2);
    cycleLabels.push([x, y]);
  }
  ctx.restore();
  return cycleLabels;
}

function emphasised(s: GraphScene, n: NodeDatum): boolean {
  return n.data.cycle || n.key === s.selected || s.matches.has(n.key) || n === s.hover;
}

/** The part of the plane in view, as [x0, y0, x1, y1]. */
function visibleBox(s: GraphScene): [number, number, number, number] {
  const [x0, y0] = s.transform.invert([0, 0]);
  const [x1, y1] = s.transform.invert([s.width, s.height]);
  return [x0, y0, x1, y1];
}

function drawTask(ctx: CanvasRenderingContext2D, theme: Theme, n: NodeDatum, label: boolean): void {
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

function drawResource(
  ctx: CanvasRenderingContext2D,
  theme: Theme,
  n: NodeDatum,
  label: boolean,
): void {
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

function drawHulls(ctx: CanvasRenderingContext2D, theme: Theme, hulls: Hull[], k: number): void {
  if (hulls.length === 0) return;
  ctx.lineJoin = 'round';
  const outline = line<[number, number]>().curve(curveCatmullRomClosed.alpha(0.5)).context(ctx);
  for (const h of hulls) {
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

/** The tooltip of a node: what it is, and its first few edges. */
export function tooltipLines(n: NodeDatum, links: readonly LinkDatum[]): string[] {
  const d = n.data;
  const lines =
    d.type === 'task'
      ? [d.label, `${d.detail} · process ${d.pid}, thread ${d.thread}`]
      : [d.label, `${d.kind} · process ${d.pid}`];
  const edges = links.filter((l) => l.source === n || l.target === n);
  for (const l of edges.slice(0, 6)) lines.push(edgeText(l));
  if (edges.length > 6) lines.push(`and ${edges.length - 6} more`);
  return lines;
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
