import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import type { Message } from '../protocol.js';
import { warnOnce, type Batch, type Sink, type SinkStats } from '../runtime.js';
import { helloMessage, registriesLost } from '../recorder.js';
import { jsonLine } from '../bytes.js';

/**
 * A JSON Lines trace file (LOCKSCOPE_TRACE). Writes are synchronous but happen only at flushes,
 * off the hot path; being synchronous, everything recorded up to process exit is on disk, also
 * for a program that deadlocks and exits with pending promises. A write that fails (disk full,
 * file gone) drops that batch, counts it, and is reported once.
 */
export class FileSink implements Sink {
  readonly kind = 'file';
  readonly takesForwarded = true;
  #fd: number | undefined;
  #sent = 0;
  #dropped = 0;
  #error: string | undefined;

  constructor(readonly target: string) {
    try {
      // Opening a FIFO for writing waits for a reader, and writing to a socket may block: either
      // would hang the program at its start, so only files and devices are written to.
      const existing = statSync(target, { throwIfNoEntry: false });
      if (existing?.isFIFO() || existing?.isSocket()) {
        throw new Error('it is a FIFO or a socket, not a file');
      }
      // The trace holds names and paths of the program: only its user may read it.
      this.#fd = openSync(target, 'w', 0o600);
      this.#write(jsonLine(helloMessage()));
    } catch (err) {
      this.#fail(err);
    }
  }

  /** A file that could not be opened never will be; one that failed a write may recover. */
  get retired(): boolean {
    return this.#fd === undefined;
  }

  #fail(err: unknown): void {
    this.#error = err instanceof Error ? err.message : String(err);
    warnOnce(
      `file-${this.target}`,
      `cannot write the trace file ${this.target}: ${this.#error}; events are dropped and counted`,
    );
  }

  #write(data: Uint8Array): boolean {
    if (this.#fd === undefined) return false;
    try {
      writeWhole(this.#fd, data);
      return true;
    } catch (err) {
      this.#fail(err);
      return false;
    }
  }

  write(batch: Batch): void {
    // A file that could not be opened costs the program no encoding.
    if (this.#fd !== undefined && this.#write(batch.bytes())) {
      this.#sent += batch.eventCount;
    } else {
      this.#dropped += batch.eventCount;
      registriesLost();
    }
  }

  control(message: Message): void {
    this.#write(jsonLine(message));
  }

  close(end: Message): void {
    this.#write(jsonLine(end));
    if (this.#fd !== undefined) {
      try {
        closeSync(this.#fd);
      } catch {
        // Closing at exit can only fail if the descriptor is already gone; nothing is lost.
      }
      this.#fd = undefined;
    }
  }

  stats(): SinkStats {
    return {
      kind: this.kind,
      target: this.target,
      sent: this.#sent,
      dropped: this.#dropped,
      inFlight: 0,
      error: this.#error,
    };
  }
}

/** Writes all of `data`: a write may take part of it. */
function writeWhole(fd: number, data: Uint8Array): void {
  for (let done = 0; done < data.length;) {
    const n = writeSync(fd, data, done);
    if (n <= 0) throw new Error('the file took no more bytes');
    done += n;
  }
}
