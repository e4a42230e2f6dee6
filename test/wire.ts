/** Protocol lines for tests that feed a collector or a stream session by hand. */
import { PROTOCOL_VERSION, type Hello, type WireEvent } from '../runtime-probe/src/protocol.js';

/** A hello line with the given token; `extra` overrides any field. */
export function helloLine(token: string | undefined, extra: Partial<Hello> = {}): string {
  const h: Hello = {
    t: 'hello',
    protocol: PROTOCOL_VERSION,
    probe: '0.1.0',
    capabilities: ['events', 'heartbeat'],
    pid: 100,
    title: 'node',
    thread: 0,
    ts: 1_700_000_000_000,
    ...(token === undefined ? {} : { token }),
    ...extra,
  };
  return JSON.stringify(h);
}

/** An events line with one event per operation name, by task 1 on resource 2. */
export function eventsLine(...ops: string[]): string {
  const list: WireEvent[] = ops.map((op, i) => ({ us: 1_000 + i, op, task: 1, res: 2 }));
  return JSON.stringify({ t: 'events', thread: 0, origin: 1_700_000_000_000, events: list });
}

/** The registration of task 1. */
export const TASK_LINE = JSON.stringify({
  t: 'task',
  id: 1,
  name: 'main',
  kind: 'main',
  thread: 0,
});
