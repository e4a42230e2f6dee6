/**
 * A Lockscope session: one private collector per window, into which any number of programs (and
 * their threads) report, each stream validated by the collector and analysed by one Analyzer.
 * Knows nothing of VS Code, so it is tested on plain Node; the extension subscribes to its
 * changes, which are coalesced so that a fast event stream costs the UI a few updates a second.
 */
import { Analyzer, type AnalysisOptions, type Finding } from 'lockscope/analysis';
import { refusalLog, startCollector, type Collector, type RejectCode } from 'lockscope/collector';

export interface SessionHandlers {
  /** Something changed: coalesced, at most one call per `updateMs`. */
  onChange?(): void;
  /** A new finding, as soon as the analysis makes it final. */
  onFinding?(finding: Finding): void;
  /** A line for the output channel. */
  log?(line: string): void;
  /**
   * A connection was refused (bad token, version skew, garbage, a limit): the reason, which
   * repeats nothing an unauthenticated peer sent, and its code.
   */
  onRefused?(reason: string, code: RejectCode): void;
}

export interface SessionOptions {
  analysis?: Partial<AnalysisOptions>;
  /** The shortest time between two `onChange` calls. */
  updateMs?: number;
}

export class Session {
  #analyzer: Analyzer;
  readonly #collector: Collector;
  readonly #handlers: SessionHandlers;
  readonly #updateMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #dirty = false;
  #closed = false;
  /** Connections refused since the session started, in all and by reason. */
  refused = 0;
  readonly refusedBy = new Map<RejectCode, number>();

  /** The current run's analyzer. `reset()` replaces it: read it each time, never keep it. */
  get analyzer(): Analyzer {
    return this.#analyzer;
  }

  private constructor(
    collector: Collector,
    analyzer: Analyzer,
    handlers: SessionHandlers,
    updateMs: number,
  ) {
    this.#collector = collector;
    this.#analyzer = analyzer;
    this.#handlers = handlers;
    this.#updateMs = updateMs;
  }

  static async start(
    handlers: SessionHandlers = {},
    options: SessionOptions = {},
  ): Promise<Session> {
    // The analysis keeps a bounded time line, so a long session cannot grow without limit.
    const analysis = { maxIntervals: 50_000, ...options.analysis };
    const analyzer = new Analyzer(analysis);
    // The collector's handlers need the session, which needs the collector: a reference fills in
    // once both exist (no connection can arrive before the endpoint is known).
    const ref: { session?: Session } = {};
    // Each reason is logged once, then counted: a flood of refusals must not flood the log.
    const logRefusal = refusalLog((line) => handlers.log?.(line));
    const collector = await startCollector({
      onMessage: (conn, m) => {
        ref.session!.analyzer.accept(conn, m);
        if (m.t === 'hello') {
          handlers.log?.(`process ${m.pid} (${m.title}) connected, thread ${m.thread}`);
        }
        ref.session?.changed();
      },
      onReject: (_conn, reason, code) => {
        const s = ref.session;
        if (s) {
          s.refused++;
          s.refusedBy.set(code, (s.refusedBy.get(code) ?? 0) + 1);
        }
        logRefusal(reason, code);
        handlers.onRefused?.(reason, code);
      },
      onEnd: (conn) => {
        ref.session?.analyzer.endStream(conn);
        const hello = conn.session.hello;
        if (hello) handlers.log?.(`process ${hello.pid}: stream ended`);
        ref.session?.changed();
      },
    });
    const session = new Session(collector, analyzer, handlers, options.updateMs ?? 250);
    session.#analysis = analysis;
    ref.session = session;
    session.#listen();
    return session;
  }

  #analysis: Partial<AnalysisOptions> = {};

  #listen(): void {
    this.#analyzer.onFinding = (f) => {
      this.#handlers.log?.(`${f.severity} ${f.kind}: ${f.message}`);
      this.#handlers.onFinding?.(f);
    };
  }

  /**
   * Starts the analysis afresh, so that a new run of a program is not shown the last run's
   * findings. Only when nothing is connected: a program still reporting would lose its state.
   * Returns whether it did.
   */
  reset(): boolean {
    if (this.connections > 0) return false;
    this.#analyzer = new Analyzer(this.#analysis);
    this.#listen();
    this.changed();
    return true;
  }

  /** The environment a program needs to report to this session. */
  env(): Record<string, string> {
    return this.#collector.env();
  }

  get endpoint(): string {
    return this.#collector.endpoint;
  }

  get connections(): number {
    return this.#collector.connections.size;
  }

  /** Notes a change; `onChange` follows within `updateMs`, once for any number of changes. */
  changed(): void {
    if (this.#closed) return;
    this.#dirty = true;
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#dirty || this.#closed) return;
      this.#dirty = false;
      this.#handlers.onChange?.();
    }, this.#updateMs);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#collector.close();
  }
}
