/**
 * The rows of each task's lane in the timeline. Intervals that overlap within a task (a hold while
 * it waits for another lock) go in rows of their own, each in the first row free at its start. In
 * a row, intervals are sorted by start, with the largest end so far beside each, so that the
 * intervals reaching into a span are found by binary search. Pure: no DOM.
 */
import type { Model } from './model.js';

export interface Row {
  ids: Int32Array;
  starts: Float64Array;
  /** The largest end among the row's intervals up to each one: sorted, so searchable. */
  maxEnd: Float64Array;
}

/** Rows per lane before overlapping intervals share the last row. */
export const MAX_ROWS = 6;

/**
 * Rows per task: intervals that overlap within a task (a hold while it waits for another lock)
 * go in rows of their own, each interval in the first row free at its start.
 */
export function buildRows(m: Model): Row[][] {
  const rowOf = new Uint8Array(m.n);
  const rowEnds: number[][] = [];
  const counts: number[][] = [];
  for (const id of m.byStart) {
    const t = m.task[id]!;
    const ends = (rowEnds[t] ??= []);
    const count = (counts[t] ??= []);
    const s = m.start[id]!;
    let r = -1;
    let soonest = 0;
    for (let k = 0; k < ends.length; k++) {
      if (ends[k]! <= s) {
        r = k;
        break;
      }
      if (ends[k]! < ends[soonest]!) soonest = k;
    }
    if (r < 0) {
      if (ends.length < MAX_ROWS) {
        r = ends.length;
        ends.push(0);
        count.push(0);
      } else {
        // Every row is busy: the one that frees first takes it, drawn over.
        r = soonest;
      }
    }
    ends[r] = Math.max(ends[r]!, m.end[id]!);
    count[r]!++;
    rowOf[id] = r;
  }
  const rows: Row[][] = [];
  const fill: number[][] = [];
  counts.forEach((count, t) => {
    if (!count) return;
    rows[t] = count.map((c) => ({
      ids: new Int32Array(c),
      starts: new Float64Array(c),
      maxEnd: new Float64Array(c),
    }));
    fill[t] = count.map(() => 0);
  });
  for (const id of m.byStart) {
    const t = m.task[id]!;
    const row = rows[t]![rowOf[id]!]!;
    const k = fill[t]![rowOf[id]!]!++;
    row.ids[k] = id;
    row.starts[k] = m.start[id]!;
    const end = m.end[id]!;
    row.maxEnd[k] = k > 0 ? Math.max(row.maxEnd[k - 1]!, end) : end;
  }
  return rows;
}
