/**
 * Output written as it is made, in pieces of about 64 KiB: a command that prints millions of lines
 * holds one piece, never the whole output.
 */
import { writeSync } from 'node:fs';

const PIECE = 64 * 1024;

export class LineWriter {
  #parts: string[] = [];
  #size = 0;

  constructor(private readonly sink: (text: string) => void) {}

  /** Adds text as it is (no newline added). */
  text(s: string): void {
    this.#parts.push(s);
    this.#size += s.length;
    if (this.#size >= PIECE) this.flush();
  }

  line(s: string): void {
    this.text(s + '\n');
  }

  lines(ss: readonly string[]): void {
    for (const s of ss) this.line(s);
  }

  flush(): void {
    if (this.#size === 0 && this.#parts.length === 0) return;
    const piece = this.#parts.join('');
    this.#parts = [];
    this.#size = 0;
    this.sink(piece);
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `text` to `fd` before returning. Standard output may be a non-blocking pipe, on
 * which Node's own stream queues in memory whatever the reader has not taken yet: gigabytes, for
 * `lockscope events` piped to a slow reader. Here a full pipe makes the writer wait instead.
 */
export function writeAllSync(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  let done = 0;
  while (done < bytes.length) {
    try {
      done += writeSync(fd, bytes, done);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

/**
 * Writes to standard output, all of it, before returning (see writeAllSync). When the reader has
 * gone (`lockscope events trace | head`, or a terminal that hung up), there is no one left to tell
 * anything: the command ends quietly, as command-line tools do on a closed pipe, and its exit
 * hooks clean up.
 */
export function writeStdout(text: string): void {
  try {
    writeAllSync(1, text);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPIPE' && code !== 'EIO') throw err;
    process.exit(0);
  }
}
