/**
 * The Chrome trace event format (JSON object form), which Perfetto and chrome://tracing open:
 * one process per traced process, one track per task, a complete event ("X") per hold and wait,
 * an instant event per finding, and flow arrows ("s" to "f") from the release that ended a wait
 * to the waiter that it woke.
 */
import type { Report } from './types.js';
import { processWords } from './wording.js';

export interface TraceEvent {
  name: string;
  ph: 'X' | 'i' | 's' | 'f' | 'M';
  ts: number;
  pid: number;
  tid: number;
  cat?: string;
  dur?: number;
  id?: number;
  bp?: 'e';
  s?: 'g' | 'p' | 't';
  args?: Record<string, unknown>;
}

export function toChromeTrace(report: Report): {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
} {
  const events: TraceEvent[] = [];
  const tids = new Map<string, { pid: number; tid: number }>();
  for (const p of report.processes) {
    events.push({
      name: 'process_name',
      ph: 'M',
      ts: 0,
      pid: p.pid,
      tid: 0,
      args: { name: processWords.name(p) },
    });
  }
  report.timeline.lanes.forEach((lane, i) => {
    const tid = i + 1;
    tids.set(lane.task, { pid: lane.pid, tid });
    events.push({
      name: 'thread_name',
      ph: 'M',
      ts: 0,
      pid: lane.pid,
      tid,
      args: { name: lane.name },
    });
    events.push({
      name: 'thread_sort_index',
      ph: 'M',
      ts: 0,
      pid: lane.pid,
      tid,
      args: { sort_index: tid },
    });
  });
  const names = new Map(report.resources.map((r) => [r.key, r.name]));
  let end = 0;
  for (const iv of report.timeline.intervals) end = Math.max(end, iv.end ?? iv.start);
  for (const f of report.findings) end = Math.max(end, f.at);
  // Where each task's hold of each resource ended, to start a flow arrow at the release.
  const releases = new Map<string, number[]>();
  for (const iv of report.timeline.intervals) {
    if (iv.type === 'hold' && iv.end !== undefined) {
      const k = `${iv.task}>${iv.resource}`;
      const list = releases.get(k) ?? [];
      list.push(iv.end);
      releases.set(k, list);
    }
  }
  let flow = 0;
  for (const iv of report.timeline.intervals) {
    const where = tids.get(iv.task);
    if (!where) continue;
    const resource = names.get(iv.resource) ?? iv.resource;
    const stop = iv.end ?? end;
    const args: Record<string, unknown> = { resource };
    if (iv.site) args.site = `${iv.site.file}:${iv.site.line}:${iv.site.column}`;
    if (iv.end === undefined) args.unfinished = true;
    events.push({
      name: `${iv.type === 'hold' ? 'hold' : 'wait'} ${resource}`,
      cat: iv.type,
      ph: 'X',
      ts: iv.start,
      dur: Math.max(0, stop - iv.start),
      pid: where.pid,
      tid: where.tid,
      args,
    });
    if (iv.type === 'wait' && iv.endedBy && iv.end !== undefined) {
      const from = tids.get(iv.endedBy);
      const released = releases
        .get(`${iv.endedBy}>${iv.resource}`)
        ?.find((t) => t <= iv.end! && t >= iv.start);
      if (!from) continue;
      flow++;
      const ts = released ?? iv.end;
      events.push({
        name: `release ${resource}`,
        cat: 'handoff',
        ph: 's',
        id: flow,
        ts,
        pid: from.pid,
        tid: from.tid,
      });
      events.push({
        name: `release ${resource}`,
        cat: 'handoff',
        ph: 'f',
        bp: 'e',
        id: flow,
        ts: iv.end,
        pid: where.pid,
        tid: where.tid,
      });
    }
  }
  for (const f of report.findings) {
    const lane = f.tasks.map((t) => tids.get(t.key)).find((x) => x !== undefined);
    events.push({
      name: `${f.kind}: ${f.message}`,
      cat: 'finding',
      ph: 'i',
      s: lane ? 't' : 'g',
      ts: f.at,
      pid: lane?.pid ?? f.tasks[0]?.pid ?? report.processes[0]?.pid ?? 0,
      tid: lane?.tid ?? 0,
      args: { severity: f.severity, fix: f.fix },
    });
  }
  return { traceEvents: events, displayTimeUnit: 'ms' };
}
