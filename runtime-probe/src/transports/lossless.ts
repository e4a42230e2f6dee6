/**
 * Lossless delivery to a collector (LOCKSCOPE_LOSSLESS=1, which `lockscope run` and the
 * extension's sessions set): every event of the main thread reaches the collector, and a program
 * that outruns the collector waits for it instead of losing events.
 *
 * The main thread cannot wait for its own socket: the socket drains on its event loop, which a
 * waiting thread does not run. So the main thread's batches and control messages go, in order,
 * to the I/O thread (transports/thread.ts), which owns a connection and writes them. A shared
 * counter holds the bytes posted and not yet written; a producer that would take it past
 * `socketHighWater` waits on it with `Atomics.wait` until the I/O thread's writes bring it down.
 * The wait is bounded: when the I/O thread has written nothing for `STALL_MS` (the collector is
 * stuck or gone), the sink drops and counts from then on, and says so once; the dropped count
 * reaches the collector in heartbeats and `end`, so the analysis knows the stream has a gap.
 *
 * This is the one place where the probe may slow the program: never indefinitely.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { Message } from '../protocol.js';
import { rt, warnOnce, type Batch, type Sink, type SinkStats } from '../runtime.js';
import { registriesLost } from '../recorder.js';
import { ensureIoThread } from './thread.js';
import {
  DEAD_HANDSHAKE_FAILED,
  Q_CLOSED,
  Q_COUNT,
  Q_DEAD,
  Q_PENDING,
  Q_WRITTEN_EVENTS,
} from './lossless-counters.js';
import { handshakeFailedMessage, remoteOf } from '../remote.js';
import { clock } from '../clock.js';
import { jsonLine } from '../bytes.js';

/** How long a producer waits for the I/O thread to write anything before it drops. */
const STALL_MS = 10_000;
/** How long the exit waits for the last writes. */
const EXIT_MS = 5_000;

export class LosslessSink implements Sink {
  readonly kind = 'socket';
  readonly takesForwarded = false;
  readonly #q = new Int32Array(new SharedArrayBuffer(4 * Q_COUNT));
  readonly #port: MessagePort;
  #posted = 0;
  #dropped = 0;
  #gaveUp = false;

  constructor(
    readonly target: string,
    hello: Message,
  ) {
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    // The port must not keep the program alive; the exit waits for the writes itself.
    port1.unref();
    // Workers' batches go to the I/O thread directly, not through this thread: a process whose
    // main thread and workers are all blocked must still be observed.
    ensureIoThread(target, hello, { port: port2, counters: this.#q });
  }

  /** Whether the I/O thread's connection failed; says why, once. */
  #dead(): boolean {
    const dead = Atomics.load(this.#q, Q_DEAD);
    if (dead === 0) return false;
    const why =
      dead === DEAD_HANDSHAKE_FAILED
        ? handshakeFailedMessage(this.target)
        : `lost the collector at ${this.target}`;
    warnOnce(
      `socket-${this.target}`,
      `${why}; the program goes on, events are dropped and counted`,
    );
    return true;
  }

  /** Waits until `size` more bytes fit, the I/O thread is dead, or it stalls. */
  #room(size: number): boolean {
    const q = this.#q;
    const limit = rt.config.socketHighWater;
    let since = clock.now();
    for (;;) {
      if (this.#gaveUp) return false;
      if (this.#dead()) return false;
      const pending = Atomics.load(q, Q_PENDING);
      // One batch larger than the limit still goes, alone.
      if (pending === 0 || pending + size <= limit) return true;
      const left = STALL_MS - (clock.now() - since);
      if (left <= 0) {
        this.#gaveUp = true;
        warnOnce(
          `lossless-${this.target}`,
          `the collector at ${this.target} took nothing for ${STALL_MS / 1000} s; ` +
            'the program goes on, events are dropped and counted',
        );
        return false;
      }
      if (Atomics.wait(q, Q_PENDING, pending, left) !== 'timed-out') since = clock.now();
    }
  }

  /** Hands `bytes`, which this sink owns, to the I/O thread (moved, not copied). */
  #post(bytes: Uint8Array<ArrayBuffer>, events: number, last = false): void {
    if (!this.#room(bytes.length)) {
      this.#dropped += events;
      registriesLost();
      return;
    }
    Atomics.add(this.#q, Q_PENDING, bytes.length);
    this.#posted += events;
    this.#port.postMessage({ bytes, events, last }, [bytes.buffer]);
  }

  write(batch: Batch): void {
    // A copy: the recorder reuses its own bytes for the next batch.
    this.#post(batch.bytes().slice(), batch.eventCount);
  }

  control(message: Message): void {
    this.#post(jsonLine(message), 0);
  }

  close(end: Message): void {
    this.#post(jsonLine(end), 0, true);
    // The I/O thread runs on while this thread exits: wait for it to have written everything,
    // and for a remote collector to have read it. Written is not enough there: a TLS peer may
    // still send (session tickets) after the last write, and a process that ends with them unread
    // resets the connection, which makes the collector drop what it had not read yet.
    const q = this.#q;
    const remote = remoteOf(this.target) !== undefined;
    const deadline = clock.now() + EXIT_MS;
    for (;;) {
      const pending = Atomics.load(q, Q_PENDING);
      const left = deadline - clock.now();
      if (this.#dead()) return;
      if (pending === 0 && (!remote || Atomics.load(q, Q_CLOSED) === 1)) return;
      if (left <= 0) {
        // The exit cannot wait longer; what is left is lost, and that is said, not silent.
        const unwritten = this.#posted - Atomics.load(q, Q_WRITTEN_EVENTS);
        warnOnce(
          `lossless-exit-${this.target}`,
          unwritten > 0
            ? `the collector at ${this.target} had not taken the last ${unwritten} events ` +
                `${EXIT_MS / 1000} s after the program ended; they are lost`
            : `the collector at ${this.target} had not read to the end ${EXIT_MS / 1000} s ` +
                'after the program ended; the last events may be lost',
        );
        return;
      }
      Atomics.wait(q, Q_PENDING, pending, left);
    }
  }

  stats(): SinkStats {
    const written = Atomics.load(this.#q, Q_WRITTEN_EVENTS);
    const dead = Atomics.load(this.#q, Q_DEAD) !== 0;
    const inFlight = this.#posted - written;
    return {
      kind: this.kind,
      target: this.target,
      sent: written,
      // What the I/O thread could no longer write is lost too.
      dropped: this.#dropped + (dead ? inFlight : 0),
      inFlight: dead ? 0 : inFlight,
      error: dead ? 'the connection to the collector failed' : undefined,
    };
  }
}
