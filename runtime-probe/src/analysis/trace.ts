/**
 * Analysis of a recorded trace (JSON Lines, as LOCKSCOPE_TRACE writes it): every line is
 * validated by a StreamSession before the analyzer sees it, so a file that is not a trace gets a
 * message naming the line, and a trace cut short (a killed process) is analysed up to its end.
 * Lines come one at a time (trace-file.ts reads them from a file in constant memory).
 */
import type { Message } from '../protocol.js';
import { LineDecoder, MAX_LINE, ProtocolError, StreamSession } from '../stream.js';
import { Analyzer, type AnalysisOptions } from './engine.js';

export class TraceError extends Error {
  override name = 'TraceError';
}

/** One line of a trace, with its number (from 1) and whether it is the trace's last. */
export interface TraceLine {
  text: string;
  line: number;
  last: boolean;
}

/**
 * Numbers the lines of a trace that arrives in pieces of text (a file read in chunks, or the whole
 * text at once), holding one back to say which is the last, without the empty line after a final
 * newline. The protocol's line decoder splits them, so a line longer than a stream may carry is
 * refused before it is held whole.
 */
export function* traceLinesOf(pieces: Iterable<string>): Generator<TraceLine> {
  const decoder = new LineDecoder(MAX_LINE);
  let held: string | undefined;
  let line = 0;
  const take = function* (lines: string[]): Generator<TraceLine> {
    for (const text of lines) {
      if (held !== undefined) yield { text: held, line, last: false };
      held = text;
      line++;
    }
  };
  try {
    for (const piece of pieces) yield* take(decoder.push(piece));
  } catch (err) {
    if (err instanceof ProtocolError && err.code === 'line-too-long') {
      throw new TraceError(`line ${line + 1}: ${err.message}`);
    }
    throw err;
  }
  if (decoder.pending !== '') yield* take([decoder.pending]);
  if (held !== undefined) yield { text: held, line, last: true };
}

/** The lines of a trace held as one string. */
export function linesOf(text: string): Generator<TraceLine> {
  return traceLinesOf([text]);
}

/**
 * Whether a refusal at the end of a trace is the cut last line a killed writer leaves, so the
 * trace is kept up to it (`lockscope report` and `lockscope events` agree on this).
 */
export function isCutLastLine(session: StreamSession, err: unknown, atEnd: boolean): boolean {
  return (
    atEnd &&
    session.hello !== undefined &&
    !(err instanceof ProtocolError && (err.code === 'no-hello' || err.code === 'second-hello'))
  );
}

/** What reading a whole trace found besides its messages. */
export interface TraceRead {
  session: StreamSession;
  /** The last line was cut short and left out. */
  cut: boolean;
}

/**
 * Validates the lines of a trace and hands each message to `onMessage`; throws TraceError when
 * they are not a valid trace (a cut last line excepted).
 */
export function readTrace(
  lines: Iterable<TraceLine>,
  onMessage: (m: Message, session: StreamSession) => void,
): TraceRead {
  // A trace file holds one process; the session object names its stream.
  const session = new StreamSession(undefined);
  let cut = false;
  for (const { text, line, last } of lines) {
    let m;
    try {
      m = session.accept(text);
    } catch (err) {
      if (isCutLastLine(session, err, last)) {
        cut = true;
        break;
      }
      throw new TraceError(`line ${line}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (m) onMessage(m, session);
  }
  if (!session.hello) throw new TraceError('it is empty: a trace starts with a hello message');
  return { session, cut };
}

/** Analyses a trace, as text or as lines; throws TraceError when it is not a valid trace. */
export function analyzeTrace(
  trace: string | Iterable<TraceLine>,
  options?: Partial<AnalysisOptions>,
): Analyzer {
  const analyzer = new Analyzer(options);
  readTrace(typeof trace === 'string' ? linesOf(trace) : trace, (m, session) =>
    analyzer.accept(session, m),
  );
  return analyzer;
}
