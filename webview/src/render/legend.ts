/** The wait-for graph's legend. */
import { el } from './common.js';
import { glyphPath } from './glyphs.js';

/** The graph's key, in HTML over the canvas. */
export function legend(): HTMLElement {
  const box = el('div', 'ls-legend ls-graph-legend');
  const item = (cls: string, text: string, glyph?: string): void => {
    const s = box.appendChild(el('span', 'ls-legend-item'));
    const key = s.appendChild(el('span', `ls-key ${cls}`));
    if (glyph) {
      const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
      svg.setAttribute('viewBox', '0 0 16 16');
      const p = document.createElementNS('http://www.w3.org/2000/svg', 'path');
      p.setAttribute('d', glyphPath(glyph));
      svg.append(p);
      key.append(svg);
    }
    s.append(el('span', undefined, text));
  };
  item('task', 'task');
  item('resource', 'resource', 'mutex');
  item('edge holds', 'holds');
  item('edge waits', 'waits for');
  item('edge cycle', 'deadlock');
  item('edge order', 'inverted order');
  return box;
}
