/**
 * Small icons for the kinds of resources, as SVG path data in a 16 by 16 box, stroked. The same
 * strings draw on a canvas (through Path2D) and in SVG, so the graph, the lock-order graph and the
 * legends show the same icon for a kind. A `shared-` kind (a lock in shared memory, usable across
 * threads) gets its base icon with a small ring in the corner.
 */

const PADLOCK = 'M5 7.5V5.2a3 3 0 0 1 6 0v2.3M3.5 7.5h9v6.5h-9z';

const GLYPHS: Record<string, string> = {
  mutex: PADLOCK,
  // A padlock with a loop inside: the owner may take it again.
  'reentrant-mutex': `${PADLOCK}M6.6 10.8a1.4 1.4 0 1 0 2.8 0a1.4 1.4 0 1 0 -2.8 0`,
  // A padlock split in two: readers on one side, the writer on the other.
  rwlock: `${PADLOCK}M8 7.5v6.5`,
  // A column of lights: the permits.
  semaphore:
    'M5 2h6v12H5zM6.9 5a1.1 1.1 0 1 0 2.2 0a1.1 1.1 0 1 0 -2.2 0M6.9 8a1.1 1.1 0 1 0 2.2 0' +
    'a1.1 1.1 0 1 0 -2.2 0M6.9 11a1.1 1.1 0 1 0 2.2 0a1.1 1.1 0 1 0 -2.2 0',
  // A bell: waiting to be notified.
  condition: 'M3.5 11.5h9M5 11.5V7.5a3 3 0 0 1 6 0v4M7 13.8h2',
  // A flag: set once, waited for.
  event: 'M4 14.5V2M4 2.5h7.5l-1.8 2.7 1.8 2.8H4',
  // A fence: everyone stops at it.
  barrier: 'M3.5 2.5v11M8 2.5v11M12.5 2.5v11M2 6h12M2 10h12',
  // A pipe with an arrow: messages flow through it.
  channel: 'M1.5 5.5h8v5h-8M11 8h3.5M12.8 6.2l1.8 1.8-1.8 1.8',
  // A clock: waiting for a count to reach zero.
  waitgroup: 'M2.5 8a5.5 5.5 0 1 0 11 0a5.5 5.5 0 1 0 -11 0M8 4.8V8l2.2 1.5',
  // A circle with a play sign: a task, joined.
  task: 'M2.5 8a5.5 5.5 0 1 0 11 0a5.5 5.5 0 1 0 -11 0M6.8 5.6v4.8L10.4 8z',
  main: 'M2.5 8a5.5 5.5 0 1 0 11 0a5.5 5.5 0 1 0 -11 0M6.8 5.6v4.8L10.4 8z',
};

const UNKNOWN = 'M8 2l6 6-6 6-6-6z';
const SHARED_MARK = 'M12.2 2.6a1.6 1.6 0 1 0 3.2 0a1.6 1.6 0 1 0 -3.2 0';

/** The icon of a resource kind, as SVG path data in a 16 by 16 box. */
export function glyphPath(kind: string): string {
  const shared = kind.startsWith('shared-');
  const base = GLYPHS[shared ? kind.slice(7) : kind] ?? UNKNOWN;
  return shared ? `${base}${SHARED_MARK}` : base;
}

const cache = new Map<string, Path2D>();

/** The icon as a Path2D, cached per kind. */
export function glyph2D(kind: string): Path2D {
  let p = cache.get(kind);
  if (!p) {
    p = new Path2D(glyphPath(kind));
    cache.set(kind, p);
  }
  return p;
}
