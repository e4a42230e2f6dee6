/**
 * Analysis of a recorded trace (JSON Lines, as LOCKSCOPE_TRACE writes it): every line is
 * validated by a StreamSession before the analyzer sees it, so a file that is not a trace gets a
 * message naming the line, and a trace cut short (a killed process) is analysed up to its end.
 */
import { ProtocolError, StreamSession } from '../collector.js';
import { Analyzer, type AnalysisOptions } from './engine.js';

export class TraceError extends Error {
  override name = 'TraceError';
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

/** Analyses the text of a trace file; throws TraceError when it is not a valid trace. */
export function analyzeTrace(text: string, options?: Partial<AnalysisOptions>): Analyzer {
  const analyzer = new Analyzer(options);
  const session = new StreamSession(undefined);
  // A trace file holds one process; the session object names its stream.
  let line = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    line++;
    const raw = text.slice(start, end);
    start = end + 1;
    let m;
    try {
      m = session.accept(raw);
    } catch (err) {
      if (isCutLastLine(session, err, end === text.length)) break;
      throw new TraceError(`line ${line}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (m) analyzer.accept(session, m);
  }
  if (!session.hello) throw new TraceError('it is empty: a trace starts with a hello message');
  return analyzer;
}
