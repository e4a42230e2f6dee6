import { connect, type Socket } from 'node:net';
import type { Message } from '../protocol.js';
import { rt, warnOnce, type Batch, type Sink, type SinkStats } from '../runtime.js';
import { helloMessage } from '../recorder.js';

/** How long `beforeExit` keeps a program alive to deliver what it has queued. */
const SETTLE_MS = 2000;

/**
 * Streams to a collector over a Unix socket or Windows named pipe (LOCKSCOPE_ENDPOINT), starting
 * with a `hello` that carries LOCKSCOPE_TOKEN.
 *
 * The program must never wait for the collector: the socket is unref'd, so it does not keep the
 * program alive; a batch is dropped (and counted) when the collector is absent, gone, or so slow
 * that more than `socketHighWater` bytes are already queued. Accounting is exact: an event is
 * `sent` once its write completed, `dropped` once its write failed or was refused, and `inFlight`
 * in between, so sent + dropped + inFlight always equals what reached the sink.
 */
export class SocketSink implements Sink {
  readonly kind = 'socket';
  #socket: Socket;
  #dead = false;
  #sent = 0;
  #dropped = 0;
  #inFlight = 0;
  #pending = new Set<{ n: number }>();
  #error: string | undefined;
  #settleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly target: string,
    token: string,
  ) {
    this.#socket = connect(target);
    this.#socket.unref();
    this.#socket.setNoDelay?.(true);
    this.#socket.on('error', (err) => this.#die(err.message));
    this.#socket.on('close', () => this.#die('the collector closed the connection'));
    // The collector may answer (an error line before closing); nothing else is expected.
    this.#socket.on('data', () => {});
    this.#send(JSON.stringify(helloMessage(token)) + '\n', 0);
  }

  #die(reason: string): void {
    if (!this.#dead) {
      this.#dead = true;
      this.#error = reason;
      if (rt.produced > 0 || this.#inFlight > 0) {
        warnOnce(
          `socket-${this.target}`,
          `lost the collector at ${this.target} (${reason}); the program goes on, events are dropped and counted`,
        );
      }
    }
    for (const p of this.#pending) this.#settleWrite(p, false);
    this.#socket.destroy();
    this.#release();
  }

  #settleWrite(p: { n: number }, ok: boolean): void {
    if (!this.#pending.delete(p)) return;
    this.#inFlight -= p.n;
    if (ok) this.#sent += p.n;
    else this.#dropped += p.n;
    if (this.#inFlight === 0) this.#release();
  }

  #send(text: string, n: number): void {
    if (this.#dead || this.#socket.writableLength > rt.config.socketHighWater) {
      this.#dropped += n;
      return;
    }
    const p = { n };
    this.#pending.add(p);
    this.#inFlight += n;
    this.#socket.write(text, (err) => this.#settleWrite(p, !err));
  }

  write(batch: Batch): void {
    this.#send(batch.text(), batch.eventCount);
  }

  control(message: Message): void {
    this.#send(JSON.stringify(message) + '\n', 0);
  }

  close(end: Message): void {
    // At exit only a synchronous attempt is possible; Node writes at once when the socket can
    // take it.
    if (!this.#dead) this.#socket.write(JSON.stringify(end) + '\n');
  }

  stats(): SinkStats {
    return {
      kind: this.kind,
      target: this.target,
      sent: this.#sent,
      dropped: this.#dropped,
      inFlight: this.#inFlight,
      error: this.#error,
    };
  }

  settle(): void {
    if (this.#dead || this.#pending.size === 0 || this.#settleTimer) return;
    this.#socket.ref();
    this.#settleTimer = setTimeout(
      () => this.#die(`not delivered within ${SETTLE_MS} ms of exit`),
      SETTLE_MS,
    );
  }

  #release(): void {
    if (this.#settleTimer) {
      clearTimeout(this.#settleTimer);
      this.#settleTimer = undefined;
    }
    if (!this.#dead) this.#socket.unref();
  }
}
