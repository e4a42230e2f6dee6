import type { Socket } from 'node:net';
import type { Message } from '../protocol.js';
import { rt, warnOnce, type Batch, type Sink, type SinkStats } from '../runtime.js';
import { heartbeatMessage, helloMessage, registriesLost, sinkRetired } from '../recorder.js';
import { clock } from '../clock.js';
import { jsonLine } from '../bytes.js';
import { connectCollector, isHandshakeFailure, handshakeFailedMessage } from '../remote.js';

/** How often the stall watchdog looks, and after how many looks without progress it acts. */
const WATCH_MS = 500;
const STALLED_LOOKS = 4;
/** After a stall: how long to wait before connecting again, and how many times to. */
const RECONNECT_MS = 1_000;
const MAX_RECONNECTS = 5;

/**
 * Streams to a collector over a Unix socket or Windows named pipe, or over TLS to a remote one
 * (LOCKSCOPE_ENDPOINT, remote.ts), starting with a `hello` that carries LOCKSCOPE_TOKEN.
 *
 * The program must never wait for the collector: the socket is unref'd, so an idle connection does
 * not keep the program alive, and a batch is dropped (and counted) when the collector is absent,
 * gone, or so slow that more than `socketHighWater` bytes are already queued. A write that the
 * kernel has not taken yet is an active libuv request, which does keep the program alive: that is
 * what delivers the last events of a program that is exiting or deadlocked. So that a collector
 * that stops reading cannot hold the program forever, a watchdog (an unref'd timer) drops the
 * connection once writes have made no progress for about two seconds, and connects again a second
 * later (at most MAX_RECONNECTS times): the new stream starts with the same `hello`, which tells
 * the collector it is the same process, then a heartbeat that counts what was lost, then the
 * registries again. A collector that closes the connection or refuses it is not retried.
 * Accounting is exact: an event is `sent` once its write completed, `dropped` once its write
 * failed or was refused, and `inFlight` in between, so sent + dropped + inFlight always equals
 * what reached the sink.
 */
export class SocketSink implements Sink {
  readonly kind = 'socket';
  readonly takesForwarded = false;
  #socket!: Socket;
  /** False between a stall and the next connection, and for good once the sink gave up. */
  #connected = false;
  #dead = false;
  #reconnects = 0;
  #sent = 0;
  #dropped = 0;
  #inFlight = 0;
  #pending = new Set<{ n: number }>();
  #error: string | undefined;
  #watchdog: ReturnType<typeof setInterval>;
  #progress = 0;
  #stalledLooks = 0;
  /** Set when a remote collector refused the token's key: the reason to tell. */
  #handshakeFailed = false;
  /** Set when events were dropped and the collector has not been told yet. */
  #gap = false;

  constructor(
    readonly target: string,
    private readonly token: string,
  ) {
    this.#connect();
    this.#watchdog = clock.setInterval(() => this.#look(), WATCH_MS);
    this.#watchdog.unref();
  }

  #connect(): void {
    if (this.#dead) return;
    const socket = connectCollector(this.target, this.token);
    this.#socket = socket;
    socket.unref();
    socket.setNoDelay?.(true);
    // Events of a connection the sink has left behind (a stalled one) are not about the next.
    const current = (): boolean => socket === this.#socket && this.#connected;
    socket.on('error', (err) => {
      if (!current()) return;
      this.#handshakeFailed = isHandshakeFailure(this.target, err);
      this.#die(err.message);
    });
    socket.on('close', () => current() && this.#die('the collector closed the connection'));
    // The collector may answer (an error line before closing); nothing else is expected.
    socket.on('data', () => {});
    this.#connected = true;
    // The hello comes first on every connection, before the heartbeat that tells of a gap.
    this.#write(jsonLine(helloMessage(this.token)), 0);
  }

  #look(): void {
    if (this.#pending.size === 0 || this.#progress > 0) {
      this.#stalledLooks = 0;
    } else if (++this.#stalledLooks >= STALLED_LOOKS) {
      this.#stalledLooks = 0;
      this.#stalled(`the collector took nothing for ${(WATCH_MS * STALLED_LOOKS) / 1000} s`);
    }
    this.#progress = 0;
  }

  /** Drops a connection that makes no progress, and connects again later. */
  #stalled(reason: string): void {
    if (this.#reconnects >= MAX_RECONNECTS) return this.#die(reason);
    this.#reconnects++;
    warnOnce(
      `socket-stall-${this.target}`,
      `${reason} at ${this.target}; events are dropped and counted until it reconnects`,
    );
    this.#connected = false;
    this.#dropPending();
    this.#socket.destroy();
    clock.setTimeout(() => this.#connect(), RECONNECT_MS).unref();
  }

  #die(reason: string): void {
    if (!this.#dead) {
      this.#dead = true;
      this.#connected = false;
      this.#error = reason;
      // Said at once, even before the program recorded anything: recording stops with it.
      this.#warnLost();
      sinkRetired();
    }
    clock.clearInterval(this.#watchdog);
    this.#dropPending();
    this.#socket.destroy();
  }

  get retired(): boolean {
    return this.#dead;
  }

  #warnLost(): void {
    const why = this.#handshakeFailed
      ? handshakeFailedMessage(this.target)
      : `lost the collector at ${this.target} (${this.#error ?? 'unknown'})`;
    warnOnce(
      `socket-${this.target}`,
      `${why}; the program goes on, events are dropped and counted`,
    );
  }

  #dropPending(): void {
    if (this.#pending.size > 0) this.#gap = true;
    for (const p of this.#pending) this.#settleWrite(p, false);
  }

  #settleWrite(p: { n: number }, ok: boolean): void {
    if (!this.#pending.delete(p)) return;
    this.#progress++;
    this.#inFlight -= p.n;
    if (ok) {
      this.#sent += p.n;
    } else {
      this.#dropped += p.n;
      registriesLost();
    }
  }

  /**
   * `batch` is false for a control message, which carries no registry and no event. The bytes are
   * made only when it can be written: a dead or full sink must not cost the program an encoding.
   */
  #send(data: () => Uint8Array, n: number, batch: boolean): void {
    if (!this.#connected || this.#socket.writableLength > rt.config.socketHighWater) {
      // A lost control message is superseded by the next; a lost batch is a gap, and its
      // registries must be sent again, after the collector has been told of the gap.
      if (!batch) return;
      this.#dropped += n;
      this.#gap = true;
      registriesLost();
      return;
    }
    if (this.#gap) {
      // The collector learns of the gap before the events that follow it, so that the analysis
      // makes no definite finding from them (see analysis/certainty.ts).
      this.#gap = false;
      this.#write(jsonLine(heartbeatMessage(this.#dropped)), 0);
    }
    this.#write(data(), n);
  }

  #write(data: Uint8Array, n: number): void {
    const p = { n };
    this.#pending.add(p);
    this.#inFlight += n;
    this.#socket.write(data, (err) => this.#settleWrite(p, !err));
  }

  write(batch: Batch): void {
    // A copy: the socket keeps the bytes until they are written, and the recorder reuses its own.
    this.#send(() => batch.bytes().slice(), batch.eventCount, true);
  }

  control(message: Message): void {
    this.#send(() => jsonLine(message), 0, false);
  }

  close(end: Message): void {
    // At exit only a synchronous attempt is possible; Node writes at once when the socket can
    // take it.
    if (this.#connected) this.#socket.write(jsonLine(end));
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
}
