/**
 * Reading a trace file line by line in constant memory: `lockscope report` and `lockscope events`
 * read traces of any size (a program of ten million operations writes gigabytes) without ever
 * holding more than one chunk and one line.
 */
import { closeSync, fstatSync, openSync, readSync, constants } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { traceLinesOf, type TraceLine } from './analysis/trace.js';

/** Why a trace file could not be read, as a code, with a text for people. */
export class TraceFileError extends Error {
  override name = 'TraceFileError';

  constructor(
    readonly code: 'missing' | 'folder' | 'not-a-file' | 'io',
    message: string,
  ) {
    super(message);
  }
}

const CHUNK = 1 << 20;

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

/** The text of `file`, in chunks decoded as UTF-8 (a character cut by a chunk waits for the next). */
function* chunksOf(fd: number, chunkBytes: number): Generator<string> {
  const chunk = Buffer.allocUnsafe(chunkBytes);
  const utf8 = new StringDecoder('utf8');
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, chunk, 0, chunk.length, null);
    } catch (err) {
      throw new TraceFileError('io', (err as Error).message);
    }
    if (n === 0) break;
    yield utf8.write(chunk.subarray(0, n));
  }
  yield utf8.end();
}

/** The lines of `file`, read in chunks: one chunk and one line held at a time. */
export function* traceLines(file: string, chunkBytes = CHUNK): Generator<TraceLine> {
  const fd = openRegular(file);
  try {
    yield* traceLinesOf(chunksOf(fd, chunkBytes));
  } finally {
    closeSync(fd);
  }
}
