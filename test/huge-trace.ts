/**
 * Writes a large, valid trace without running a program: rounds of short-lived tasks, each making
 * a mutex, taking and releasing it, and ending, with the mutexes collected a number of rounds
 * later (as a program's garbage collector reports them), and a long-lived mutex contended now and
 * then. Its size is chosen in bytes, so tests can ask for 200 MB or 2 GB.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export interface HugeTraceOptions {
  /** Roughly how many bytes to write (the last round may go a little over). */
  bytes?: number;
  /** Or how many short-lived resources to make. */
  resources?: number;
  /** Short-lived resources per round. */
  perRound?: number;
  /** How many rounds a resource stays uncollected after its use. */
  lagRounds?: number;
}

export interface HugeTrace {
  bytes: number;
  events: number;
  messages: number;
  resources: number;
}

const ORIGIN = 1_700_000_000_000;
const FILE = '/app/src/worker.ts';

export function writeHugeTrace(path: string, options: HugeTraceOptions): HugeTrace {
  const perRound = options.perRound ?? 1000;
  const lag = options.lagRounds ?? 100;
  const fd = openSync(path, 'w', 0o600);
  let pending: string[] = [];
  let pendingBytes = 0;
  const out: HugeTrace = { bytes: 0, events: 0, messages: 0, resources: 0 };
  const line = (s: string): void => {
    pending.push(s, '\n');
    pendingBytes += s.length + 1;
    out.messages++;
    if (pendingBytes >= 1 << 20) flush();
  };
  const flush = (): void => {
    const text = pending.join('');
    writeSync(fd, text);
    out.bytes += Buffer.byteLength(text);
    pending = [];
    pendingBytes = 0;
  };
  try {
    line(
      JSON.stringify({
        t: 'hello',
        protocol: 1,
        probe: '0.1.0',
        capabilities: ['events', 'sites'],
        pid: 7,
        title: 'huge',
        thread: 0,
        ts: ORIGIN,
      }),
    );
    line(`{"t":"site","id":1,"file":"${FILE}","line":10,"column":5}`);
    line(`{"t":"site","id":2,"file":"${FILE}","line":11,"column":9}`);
    line('{"t":"task","id":1,"name":"main","kind":"main","thread":0}');
    line('{"t":"resource","id":2,"kind":"mutex","name":"shared","class":"shared","site":1}');
    let us = 0;
    let nextId = 10;
    const used: number[][] = [];
    const more = (): boolean =>
      options.resources !== undefined
        ? out.resources < options.resources
        : out.bytes + pendingBytes < (options.bytes ?? 0);
    for (let round = 0; more(); round++) {
      const ids: number[] = [];
      const events: string[] = [];
      for (let i = 0; i < perRound; i++) {
        const task = nextId++;
        const res = nextId++;
        ids.push(res);
        line(
          `{"t":"task","id":${task},"name":"request #${task}","kind":"spawn","thread":0,"parent":1}`,
        );
        line(
          `{"t":"resource","id":${res},"kind":"mutex","name":"request lock","class":"${FILE}:10:5","site":1}`,
        );
        events.push(
          `{"us":${us++},"op":"task-start","task":${task},"peer":1}`,
          `{"us":${us++},"op":"acquired","task":${task},"res":${res},"site":2}`,
          `{"us":${(us += 3)},"op":"released","task":${task},"res":${res}}`,
          `{"us":${us++},"op":"task-end","task":${task}}`,
        );
      }
      // Every tenth round two requests queue on the shared mutex: contention and waits.
      if (round % 10 === 0) {
        events.push(
          `{"us":${us++},"op":"acquired","task":1,"res":2,"site":2}`,
          `{"us":${us++},"op":"request","task":${nextId - 2},"res":2,"site":2}`,
          `{"us":${(us += 50)},"op":"released","task":1,"res":2}`,
          `{"us":${us++},"op":"acquired","task":${nextId - 2},"res":2,"site":2}`,
          `{"us":${(us += 5)},"op":"released","task":${nextId - 2},"res":2}`,
        );
      }
      used.push(ids);
      const collected = used.length > lag ? used.shift()! : [];
      for (const res of collected)
        events.push(`{"us":${us},"op":"collected","task":1,"res":${res}}`);
      out.events += events.length;
      out.resources += perRound;
      line(`{"t":"events","thread":0,"origin":${ORIGIN},"events":[${events.join(',')}]}`);
    }
    line(`{"t":"idle","ts":${ORIGIN + us / 1000}}`);
    line(
      `{"t":"end","ts":${ORIGIN + us / 1000},"exitCode":0,"produced":${out.events},"dropped":0}`,
    );
    flush();
  } finally {
    closeSync(fd);
  }
  return out;
}
