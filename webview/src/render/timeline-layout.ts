/**
 * The time line's lanes: one per task that has intervals (and that the search matches), grouped
 * under a header per process and, when a process has several, per thread. Pure: the view places
 * the result in its scrolled content.
 */
import { processWords } from 'lockscope/report';
import { lowerBound, type Model } from '../model/model.js';
import type { Row } from '../model/rows.js';
import { GUTTER, LANE_PAD, ROW, ROW_GAP, RULER, type Item } from './timeline-paint.js';

const PROCESS_HEADER = 22;
const THREAD_HEADER = 18;

/** The lanes and headers, top to bottom, and the height of them all. */
export function layoutLanes(
  m: Model,
  rowsOf: readonly Row[][],
  search: string,
): { items: Item[]; height: number } {
  const items: Item[] = [];
  const visible = visibleTasks(m, rowsOf, search);
  // Processes in the report's order, threads by number, tasks by their first interval.
  const processOrder = new Map(m.report.processes.map((p, i) => [p.pid, i]));
  const titles = new Map(m.report.processes.map((p) => [p.pid, processWords.name(p)]));
  const tasks = [...visible].sort((a, b) => {
    const ta = m.tasks[a]!;
    const tb = m.tasks[b]!;
    return (
      (processOrder.get(ta.pid) ?? 1e9) - (processOrder.get(tb.pid) ?? 1e9) ||
      ta.pid - tb.pid ||
      ta.thread - tb.thread ||
      firstStart(m, a) - firstStart(m, b)
    );
  });
  const threadsOf = new Map<number, Set<number>>();
  for (const t of tasks) {
    const info = m.tasks[t]!;
    (threadsOf.get(info.pid) ?? threadsOf.set(info.pid, new Set()).get(info.pid)!).add(info.thread);
  }
  let y = 0;
  let pid = NaN;
  let thread = NaN;
  for (const t of tasks) {
    const info = m.tasks[t]!;
    if (info.pid !== pid) {
      pid = info.pid;
      thread = NaN;
      const title = titles.get(pid);
      const label = title ?? `process ${pid}`;
      items.push({
        kind: 'process',
        label,
        top: y,
        height: PROCESS_HEADER,
        task: -1,
        rows: [],
      });
      y += PROCESS_HEADER;
    }
    if (info.thread !== thread) {
      thread = info.thread;
      if ((threadsOf.get(pid)?.size ?? 0) > 1) {
        const label = thread === 0 ? 'main thread' : `thread ${thread}`;
        items.push({
          kind: 'thread',
          label,
          top: y,
          height: THREAD_HEADER,
          task: -1,
          rows: [],
        });
        y += THREAD_HEADER;
      }
    }
    const rows = rowsOf[t] ?? [];
    const height = Math.max(rows.length, 1) * (ROW + ROW_GAP) - ROW_GAP + 2 * LANE_PAD;
    items.push({ kind: 'lane', label: info.name, top: y, height, task: t, rows });
    y += height;
  }
  return { items, height: y };
}

/** The tasks with a lane: those with intervals, and with a search, those it matches (by the
 * task's name or the name of a resource in one of its intervals). */
function visibleTasks(m: Model, rowsOf: readonly Row[][], q: string): Set<number> {
  const out = new Set<number>();
  const resourceMatch = q ? m.resources.map((r) => r.name.toLowerCase().includes(q)) : [];
  rowsOf.forEach((rows, t) => {
    if (rows.length === 0) return;
    if (!q || m.tasks[t]!.name.toLowerCase().includes(q)) {
      out.add(t);
      return;
    }
    for (const row of rows) {
      for (const id of row.ids) {
        if (resourceMatch[m.resource[id]!]) {
          out.add(t);
          return;
        }
      }
    }
  });
  return out;
}

function firstStart(m: Model, task: number): number {
  const ids = m.intervalsOfTask(task);
  return ids.length > 0 ? m.start[ids[0]!]! : Infinity;
}

/** What is under the pointer: a bar (interval), a lane's task, or a finding's marker. */
export interface Hit {
  interval?: number;
  task?: number;
  finding?: string;
}

/**
 * What is at pixel (`px`, `py`) of the lanes' canvas. `t` is the time at `px`, and `slack` three
 * pixels' worth of time, so that a thin bar can still be hit.
 */
export function hitTest(
  lanes: { model: Model; items: readonly Item[]; tops: Float64Array; scrollTop: number },
  x: (t: number) => number,
  at: { px: number; py: number; t: number; slack: number },
): Hit | undefined {
  const { model: m, items, tops } = lanes;
  const { px, py, t, slack } = at;
  if (py < RULER) {
    for (const f of m.report.findings) if (Math.abs(x(f.at) - px) <= 5) return { finding: f.id };
    return undefined;
  }
  const contentY = py - RULER + lanes.scrollTop;
  const item = items[lowerBound(tops, contentY + 0.001) - 1];
  if (!item || item.kind !== 'lane' || contentY >= item.top + item.height) return undefined;
  if (px < GUTTER) return { task: item.task };
  const row = item.rows[Math.floor((contentY - item.top - LANE_PAD) / (ROW + ROW_GAP))];
  if (!row) return { task: item.task };
  // The last interval starting before the point that reaches it (within a few pixels).
  const i = lowerBound(row.starts, t + slack) - 1;
  for (let j = i; j >= 0 && j > i - 64; j--) {
    const id = row.ids[j]!;
    const end = Math.min(m.end[id]!, m.last);
    if (Math.max(x(end), x(m.start[id]!) + 1.5) >= px - 3) return { interval: id };
    if (row.maxEnd[j]! < t - slack) break;
  }
  return { task: item.task };
}
