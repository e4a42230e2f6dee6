/**
 * Colours for the canvases. The stylesheet defines every colour as a custom property over VS
 * Code's theme variables (with fallbacks); a canvas cannot use `var()`, so the values are read
 * from the computed style, and read again when the theme changes: VS Code swaps the body's class
 * (`vscode-light`, `vscode-dark`, `vscode-high-contrast`) and the variables on the root element,
 * and a standalone page follows the system's colour scheme.
 */
import { PALETTE_SIZE } from '../model/model.js';

export interface Theme {
  bg: string;
  fg: string;
  muted: string;
  border: string;
  panel: string;
  lane: string;
  node: string;
  nodeBorder: string;
  edge: string;
  task: string;
  error: string;
  warning: string;
  info: string;
  cursor: string;
  selection: string;
  onColour: string;
  hull: string;
  font: string;
  mono: string;
  /** The resource palette. */
  palette: string[];
  /** True in a high-contrast theme: lines are drawn thicker and every shape gets an outline. */
  highContrast: boolean;
  /** True in a light theme. */
  light: boolean;
}

const NAMES = {
  bg: '--ls-bg',
  fg: '--ls-fg',
  muted: '--ls-muted',
  border: '--ls-border',
  panel: '--ls-panel',
  lane: '--ls-lane',
  node: '--ls-node',
  nodeBorder: '--ls-node-border',
  edge: '--ls-edge',
  task: '--ls-task',
  error: '--ls-error',
  warning: '--ls-warning',
  info: '--ls-info',
  cursor: '--ls-cursor',
  selection: '--ls-selection',
  onColour: '--ls-on-colour',
  hull: '--ls-hull',
  font: '--ls-font',
  mono: '--ls-mono',
} as const;

/** Reads the theme from the computed style of `el` (any element under the stylesheet's root). */
export function readTheme(el: Element): Theme {
  const style = getComputedStyle(el);
  const get = (name: string, fallback: string): string =>
    style.getPropertyValue(name).trim() || fallback;
  const body = document.body.classList;
  const theme = {} as Record<keyof typeof NAMES, string>;
  for (const [key, name] of Object.entries(NAMES)) {
    theme[key as keyof typeof NAMES] = get(name, key === 'font' || key === 'mono' ? '' : '#888');
  }
  const palette = Array.from({ length: PALETTE_SIZE }, (_, i) => get(`--ls-c${i}`, '#888'));
  return {
    ...theme,
    font: theme.font || 'sans-serif',
    mono: theme.mono || 'monospace',
    palette,
    highContrast:
      body.contains('vscode-high-contrast') || body.contains('vscode-high-contrast-light'),
    light:
      body.contains('vscode-light') || body.contains('vscode-high-contrast-light')
        ? true
        : body.contains('vscode-dark') || body.contains('vscode-high-contrast')
          ? false
          : matchMedia('(prefers-color-scheme: light)').matches,
  };
}

/**
 * Calls `onChange` when the theme may have changed. Returns a function that stops watching.
 */
export function watchTheme(onChange: () => void): () => void {
  const observer = new MutationObserver(onChange);
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
  const media = matchMedia('(prefers-color-scheme: light)');
  media.addEventListener('change', onChange);
  return () => {
    observer.disconnect();
    media.removeEventListener('change', onChange);
  };
}

/** A canvas sized for the device's pixel ratio, so lines and text stay sharp. */
export function sizeCanvas(
  canvas: HTMLCanvasElement,
  width: number,
  height: number,
): CanvasRenderingContext2D {
  const ratio = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(width * ratio));
  const h = Math.max(1, Math.round(height * ratio));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return ctx;
}

/** A colour with an alpha, for fills drawn over a background (any CSS colour the canvas parses). */
export function withAlpha(ctx: CanvasRenderingContext2D, colour: string, alpha: number): string {
  // The canvas normalises any CSS colour it is given to #rrggbb or rgba(); reading it back gives
  // a form whose channels can be taken apart.
  ctx.fillStyle = '#000';
  ctx.fillStyle = colour;
  const c = ctx.fillStyle;
  if (c.startsWith('#') && c.length === 7) {
    const r = parseInt(c.slice(1, 3), 16);
    const g = parseInt(c.slice(3, 5), 16);
    const b = parseInt(c.slice(5, 7), 16);
    return `rgba(${r},${g},${b},${alpha})`;
  }
  const m = /rgba?\(([^,]+),([^,]+),([^,)]+)(?:,([^)]+))?\)/.exec(c.replace(/\s/g, ''));
  if (!m) return colour;
  const a = (m[4] === undefined ? 1 : Number(m[4])) * alpha;
  return `rgba(${m[1]},${m[2]},${m[3]},${a})`;
}
