/**
 * Reading a trace file line by line in constant memory: `lockscope report` and `lockscope events`
 * read traces of any size (a program of ten million operations writes gigabytes) without ever
 * holding more than one chunk and one line.
 */
import { closeSync, fstatSync, openSync, readSync, constants } from 'node:fs';
import { MAX_LINE } from './stream.js';
import type { TraceLine } from './analysis/trace.js';

/** Why a trace file could not be read, as a code, with a text for people. */
export class TraceFileError extends Error {
  override name = 'TraceFileError';

  constructor(
    readonly code: 'missing' | 'folder' | 'not-a-file' | 'line-too-long' | 'io',
    message: string,
  ) {
    super(message);
  }
}

const CHUNK = 1 << 20;
const NEWLINE = 0x0a;

/**
 * Opens `file` for reading, refusing what is not a regular file: a FIFO or a device would block
 * or never end, and neither is a recorded trace.
 */
function openRegular(file: string): number {
  let fd: number;
  try {
    // Non-blocking, so that opening a FIFO with no writer returns at once instead of hanging.
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TraceFileError('missing', 'no such file');
    if (code === 'EISDIR') throw new TraceFileError('folder', 'it is a folder');
    throw new TraceFileError('io', (err as Error).message);
  }
  const st = fstatSync(fd);
  if (st.isDirectory()) {
    closeSync(fd);
    throw new TraceFileError('folder', 'it is a folder');
  }
  if (!st.isFile()) {
    closeSync(fd);
    throw new TraceFileError('not-a-file', 'it is not a regular file (a FIFO, socket or device)');
  }
  return fd;
}

/**
 * The lines of `file`, split at newline bytes (which never occur inside a UTF-8 sequence), without
 * the empty line after a final newline. A line longer than the protocol's longest is refused
 * before it is held whole.
 */
export function* traceLines(file: string, chunkBytes = CHUNK): Generator<TraceLine> {
  const fd = openRegular(file);
  try {
    const chunk = Buffer.allocUnsafe(chunkBytes);
    // The start of a line that a chunk boundary cut, and the line held back until the next one
    // shows whether it is the last.
    let carry: Buffer[] = [];
    let carried = 0;
    let held: string | undefined;
    let line = 0;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (err) {
        throw new TraceFileError('io', (err as Error).message);
      }
      if (n === 0) break;
      let start = 0;
      for (;;) {
        const end = chunk.indexOf(NEWLINE, start);
        if (end < 0 || end >= n) break;
        if (carried + (end - start) > MAX_LINE) tooLong(line + 1);
        const text = carried
          ? Buffer.concat([...carry, chunk.subarray(start, end)]).toString('utf8')
          : chunk.toString('utf8', start, end);
        carry = [];
        carried = 0;
        if (held !== undefined) yield { text: held, line, last: false };
        held = text;
        line++;
        start = end + 1;
      }
      if (start < n) {
        carried += n - start;
        if (carried > MAX_LINE) tooLong(line + 1);
        carry.push(Buffer.from(chunk.subarray(start, n)));
      }
    }
    if (carried) {
      if (held !== undefined) yield { text: held, line, last: false };
      held = Buffer.concat(carry).toString('utf8');
      line++;
    }
    if (held !== undefined) yield { text: held, line, last: true };
  } finally {
    closeSync(fd);
  }
}

function tooLong(line: number): never {
  throw new TraceFileError('line-too-long', `line ${line} is longer than ${MAX_LINE} bytes`);
}
