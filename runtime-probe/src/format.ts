/**
 * Readable text for a stream of protocol messages: one line per event with the task, the
 * operation, the resource and the source line. Pure: it keeps the registries it has seen and
 * returns lines, so the CLI, tests and the extension's output channel can share it.
 */
import { relative } from 'node:path';
import { MISUSE_CODES, type Message, type SiteMessage, type WireEvent } from './protocol.js';

export interface FormatOptions {
  /** Paths are shown relative to this folder. */
  cwd?: string;
}

export class EventFormatter {
  readonly tasks = new Map<number, string>();
  readonly resources = new Map<number, { name: string; kind: string }>();
  readonly sites = new Map<number, SiteMessage>();
  #t0: number | undefined;

  constructor(private readonly options: FormatOptions = {}) {}

  site(id: number | undefined): string {
    if (!id) return '';
    const s = this.sites.get(id);
    if (!s) return `site ${id}`;
    const file = this.options.cwd ? relative(this.options.cwd, s.file) : s.file;
    return `${file}:${s.line}:${s.column}`;
  }

  #time(ts: number): string {
    this.#t0 ??= ts;
    return `+${(ts - this.#t0).toFixed(3).padStart(9)} ms`;
  }

  #task(id: number): string {
    return this.tasks.get(id) ?? `task ${id}`;
  }

  #detail(e: WireEvent): string {
    switch (e.op) {
      case 'misuse':
        return MISUSE_CODES[e.n ?? 0] ?? `code ${e.n}`;
      case 'task-start':
        return e.peer !== undefined ? `started by ${this.#task(e.peer)}` : '';
      case 'task-end':
        return e.n ? 'threw' : 'returned';
      case 'join':
        return e.peer !== undefined ? `waits for ${this.#task(e.peer)}` : '';
      case 'receive':
        return e.n === -1 ? 'closed' : '';
      case 'abandoned':
        return e.peer !== undefined ? `held by ${this.#task(e.peer)}, whose thread ended` : '';
      case 'thread-start':
        return e.peer !== undefined ? `started ${this.#task(e.peer)}` : '';
      case 'held-long':
        return e.peer !== undefined ? `held by ${this.#task(e.peer)} for ${e.n ?? 0} ms` : '';
      case 'thread-exit':
        return `exit code ${e.n ?? 0}`;
      case 'thread-cut':
        return 'ended from outside: its last events may be lost';
      default:
        return '';
    }
  }

  /** Returns the lines to print for one message (often none, for registry messages). */
  format(m: Message): string[] {
    switch (m.t) {
      case 'hello':
        this.#t0 = m.ts;
        return [
          `process ${m.pid} (${m.title}), thread ${m.thread}, probe ${m.probe}, protocol ${m.protocol}`,
        ];
      case 'task':
        this.tasks.set(m.id, m.name);
        return [];
      case 'resource':
        this.resources.set(m.id, { name: m.name, kind: m.kind });
        return [];
      case 'site':
        this.sites.set(m.id, m);
        return [];
      case 'events':
        return m.events.map((e) => {
          const ts = m.origin + e.us / 1000;
          const res = e.res !== undefined ? this.resources.get(e.res) : undefined;
          const what = res ? `${res.name}` : e.res !== undefined ? `resource ${e.res}` : '';
          const detail = this.#detail(e);
          const line = [
            this.#time(ts),
            this.#task(e.task).padEnd(26),
            e.op.padEnd(12),
            what.padEnd(12),
            detail ? `${detail}  ` : '',
            this.site(e.site),
          ]
            .join(' ')
            .trimEnd();
          // What has ended or been collected is named for the last time: forgetting it keeps a
          // trace of a million short-lived tasks or locks from filling memory.
          if (e.op === 'collected' && e.res !== undefined) this.resources.delete(e.res);
          if (e.op === 'task-end') this.tasks.delete(e.task);
          return line;
        });
      case 'heartbeat':
        return [];
      case 'idle':
        return [`${this.#time(m.ts)} idle: the program has nothing left to run`];
      case 'end':
        return [
          `${this.#time(m.ts)} exit code ${m.exitCode}; ${m.produced} events produced, ${m.dropped} dropped`,
        ];
    }
  }
}
