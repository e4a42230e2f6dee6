/**
 * Builds protocol v1 traces for analysis tests: register tasks, resources and sites, then write
 * events at given microseconds. `lines()` gives the JSON Lines a recorded trace would hold, so
 * the tests go through the same validation as `lockscope report`.
 */
import type { Message, WireEvent } from '../runtime-probe/src/protocol.js';

export const FILE = '/app/src/bank.ts';

export class TraceBuilder {
  readonly messages: Message[] = [];
  #batch: WireEvent[] = [];
  readonly origin = 1_700_000_000_000;

  constructor(pid = 4242) {
    this.messages.push({
      t: 'hello',
      protocol: 1,
      probe: '0.1.0',
      capabilities: ['events', 'sites'],
      pid,
      title: 'node',
      thread: 0,
      ts: this.origin,
    });
  }

  task(id: number, name: string, kind = 'spawn', thread = 0, uncertain = false): this {
    this.#cut();
    this.messages.push({ t: 'task', id, name, kind, thread, ...(uncertain ? { uncertain } : {}) });
    return this;
  }

  resource(
    id: number,
    kind: string,
    name: string,
    cls = `${FILE}:${id}:1`,
    capacity?: number,
  ): this {
    this.#cut();
    this.messages.push({
      t: 'resource',
      id,
      kind,
      name,
      class: cls,
      ...(capacity !== undefined ? { capacity } : {}),
    });
    return this;
  }

  /** A site on line `line` of FILE; its id is the line number. */
  site(line: number, fn?: string): this {
    this.#cut();
    this.messages.push({ t: 'site', id: line, file: FILE, line, column: 5, ...(fn ? { fn } : {}) });
    return this;
  }

  ev(
    us: number,
    op: string,
    task: number,
    res?: number,
    site?: number,
    n?: number,
    peer?: number,
  ): this {
    const e: WireEvent = { us, op, task };
    if (res !== undefined) e.res = res;
    if (site !== undefined) e.site = site;
    if (n !== undefined) e.n = n;
    if (peer !== undefined) e.peer = peer;
    this.#batch.push(e);
    return this;
  }

  heartbeat(us: number): this {
    this.#cut();
    this.messages.push({ t: 'heartbeat', ts: this.origin + us / 1000, produced: 0, dropped: 0 });
    return this;
  }

  idle(us: number): this {
    this.#cut();
    this.messages.push({ t: 'idle', ts: this.origin + us / 1000 });
    return this;
  }

  end(us: number, exitCode = 0): this {
    this.#cut();
    this.messages.push({
      t: 'end',
      ts: this.origin + us / 1000,
      exitCode,
      produced: 0,
      dropped: 0,
    });
    return this;
  }

  #cut(): void {
    if (this.#batch.length === 0) return;
    this.messages.push({ t: 'events', thread: 0, origin: this.origin, events: this.#batch });
    this.#batch = [];
  }

  text(): string {
    this.#cut();
    return this.messages.map((m) => JSON.stringify(m)).join('\n') + '\n';
  }
}

/**
 * Two tasks, alice (1) and bob (2), two mutexes, a (11) and b (12) unless named otherwise, sites
 * on lines 10 to 13.
 */
export function twoLocks(names: [string, string] = ['a', 'b']): TraceBuilder {
  return new TraceBuilder()
    .task(1, 'alice')
    .task(2, 'bob')
    .resource(11, 'mutex', names[0])
    .resource(12, 'mutex', names[1])
    .site(10)
    .site(11)
    .site(12)
    .site(13);
}

/**
 * The smallest deadlock: alice takes a (line 10), bob takes b (line 12), alice waits for b
 * (line 11), bob waits for a (line 13).
 */
export function twoLockDeadlock(): TraceBuilder {
  return twoLocks()
    .ev(0, 'acquired', 1, 11, 10)
    .ev(1, 'acquired', 2, 12, 12)
    .ev(2, 'request', 1, 12, 11)
    .ev(3, 'request', 2, 11, 13);
}

/**
 * Two mutexes taken in opposite orders at different times: alice takes a (line 10) then b (line
 * 11) and lets both go; then task `second` (bob by default) takes b (line 12) then a (line 13).
 */
export function oppositeOrders(second = 2, names?: [string, string]): TraceBuilder {
  return twoLocks(names)
    .ev(0, 'acquired', 1, 11, 10)
    .ev(1, 'acquired', 1, 12, 11)
    .ev(2, 'released', 1, 12)
    .ev(3, 'released', 1, 11)
    .ev(4, 'acquired', second, 12, 12)
    .ev(5, 'acquired', second, 11, 13);
}
