/**
 * The page's test hook, `window.__lockscope`: what the canvases drew (they have no DOM to query)
 * and the playback state, for the browser tests and the benchmarks. Types only and no DOM, so the
 * tests, compiled without the DOM library, can import them.
 */

export interface DebugEdge {
  source: string;
  target: string;
  type: string;
  cycle: boolean;
  /** The colour the canvas stroked the edge with, as it normalised it (`#rrggbb` or `rgba()`). */
  colour: string;
  /** Both ends, in CSS pixels from the top left of the graph's canvas. */
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface DebugNode {
  key: string;
  type: string;
  x: number;
  y: number;
  cycle: boolean;
  dimmed: boolean;
}

/** What the graph last drew (the canvas itself has no DOM to query). */
export interface GraphDebug {
  nodes: DebugNode[];
  edges: DebugEdge[];
  cycleLabels: { text: string; x: number; y: number }[];
  /** True once the layout has come to rest. */
  settled: boolean;
  frames: number;
}

/** What the time line last drew. */
export interface TimelineDebug {
  t0: number;
  t1: number;
  scrollTop: number;
  /** The lanes in view, with their top and height in CSS pixels from the top of the canvas. */
  lanes: { name: string; task: string; top: number; height: number }[];
  /** Where the time axis starts and ends, in CSS pixels from the left of the canvas. */
  plotLeft: number;
  plotRight: number;
  /** The height of the ruler at the top of the canvas (click it to move the cursor). */
  ruler: number;
  bars: number;
  frames: number;
  drawMs: number;
  cursorX: number;
}

export interface DebugSnapshot {
  paused: boolean;
  playing: boolean;
  live: boolean;
  time: number;
  first: number;
  last: number;
  intervals: number;
  tab: string;
  search: string;
  selected: unknown;
  /** Reports received while paused and not shown yet. */
  waiting: number;
  /** The theme's error colour as the canvas normalises it, to compare with edge colours. */
  errorColour: string;
  graph: GraphDebug;
  timeline: TimelineDebug;
  /** How many reports the view has drawn. */
  applied: number;
}

export interface LockscopeDebug {
  snapshot(): DebugSnapshot;
  seek(time: number): void;
  step(direction: -1 | 1): void;
  live(): void;
  play(): void;
  /** Shows a message as if the host had posted it (the standalone page has no host). */
  receive(message: unknown): void;
  /** Pans the graph by pixels, and starts its layout moving again (benchmarks). */
  panGraph(dx: number, dy: number): void;
  reheatGraph(alpha: number): void;
  /** Zooms the time axis by `factor` around a moment (the middle of the view by default). */
  zoomTimeline(factor: number, at?: number): void;
  panTimeline(fraction: number): void;
  scrollTimeline(dy: number): void;
  /** Takes the view down, as a page that replaced it would. */
  destroy(): void;
}
