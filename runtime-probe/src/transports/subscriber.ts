import type { Message } from '../protocol.js';
import { warnOnce, type Batch, type Sink, type SinkStats, handedOnStats } from '../runtime.js';
import { helloMessage } from '../recorder.js';

/** Receives every protocol message the probe delivers, after the fact (from its flush). */
export type Listener = (message: Message) => void;

/**
 * In-process delivery to a listener, off the hot path (from the recorder's flush). The listener
 * receives the `hello` first, then every registry, events and control message. A listener that
 * throws is reported once on stderr and keeps receiving; the program is not disturbed.
 */
export class SubscriberSink implements Sink {
  readonly kind = 'subscriber';
  readonly takesForwarded = true;
  readonly target = 'in-process';
  #sent = 0;
  #error: string | undefined;

  constructor(private readonly listener: Listener) {}

  #deliver(message: Message): void {
    try {
      this.listener(message);
    } catch (err) {
      this.#error = String(err);
      warnOnce('subscriber-threw', `a subscribe() listener threw: ${String(err)}`);
    }
  }

  start(): void {
    this.#deliver(helloMessage());
  }

  write(batch: Batch): void {
    for (const m of batch.messages()) this.#deliver(m);
    this.#sent += batch.eventCount;
  }

  control(message: Message): void {
    this.#deliver(message);
  }

  close(end: Message): void {
    this.#deliver(end);
  }

  stats(): SinkStats {
    return handedOnStats(this, this.#sent, this.#error);
  }
}
