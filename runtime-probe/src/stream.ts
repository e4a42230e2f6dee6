/**
 * One stream of protocol v1 as the receiving end sees it, without any I/O: a line decoder that
 * bounds what it holds, and a session that validates every message (the hello first, with its
 * token and version). The socket collector, trace files and tests all read streams through it.
 */
import { timingSafeEqual } from 'node:crypto';
import {
  checkHandshake,
  decodeLine,
  isKnownOp,
  isUnknownMessage,
  type Hello,
  type Message,
} from './protocol.js';

/** The longest line of an authenticated stream, in characters. */
export const MAX_LINE = 64 * 1024 * 1024;

/** Why a stream was refused, as a code: the reason's text is for people. */
export type RejectCode =
  | 'bad-message'
  | 'no-hello'
  | 'second-hello'
  | 'bad-token'
  | 'version'
  | 'line-too-long'
  | 'hello-timeout'
  | 'handshake-timeout'
  | 'too-many-connections'
  | 'no-viewers';

/** Splits a byte stream into lines, holding at most `maxLine` characters of a partial line. */
export class LineDecoder {
  #partial = '';

  constructor(private readonly maxLine = MAX_LINE) {}

  /** Returns the complete lines in `chunk`; throws when a line exceeds the limit. */
  push(chunk: string): string[] {
    if (!chunk.includes('\n')) {
      // No line ends in this chunk: append without re-splitting what is held, so that a long line
      // arriving in many chunks costs linear, not quadratic, time.
      this.#partial += chunk;
      this.#checkLength(this.#partial);
      return [];
    }
    const lines = (this.#partial + chunk).split('\n');
    this.#partial = lines.pop()!;
    for (const line of lines) this.#checkLength(line);
    this.#checkLength(this.#partial);
    return lines;
  }

  #checkLength(line: string): void {
    if (line.length > this.maxLine) {
      throw new ProtocolError('line-too-long', `a line is longer than ${this.maxLine} characters`);
    }
  }

  get pending(): string {
    return this.#partial;
  }
}

export interface SessionCounters {
  messages: number;
  events: number;
  unknownMessages: number;
  unknownOps: number;
}

/**
 * One probe's stream, validated: the first message must be a `hello` of a protocol this side
 * speaks (and carry the token, if one is required); every later message must be well formed.
 * A bad message ends the session with the reason, so one broken producer cannot corrupt the data
 * of others.
 */
export class StreamSession {
  hello: Hello | undefined;
  /** True once the hello presented the right token (or none was required). */
  authenticated = false;
  readonly counters: SessionCounters = {
    messages: 0,
    events: 0,
    unknownMessages: 0,
    unknownOps: 0,
  };
  #line = 0;

  constructor(private readonly expectedToken: string | undefined) {}

  /** Accepts one line; returns the message, null for a blank or unknown one, or throws. */
  accept(line: string): Message | null {
    this.#line++;
    if (line.trim() === '') return null;
    const r = decodeLine(line, `message ${this.#line}`);
    if (!r.ok) throw new ProtocolError('bad-message', r.error);
    const m = r.message;
    if (isUnknownMessage(m)) {
      if (!this.hello)
        throw new ProtocolError(
          'no-hello',
          `message ${this.#line}: expected a hello first, got "${m.t}"`,
        );
      this.counters.unknownMessages++;
      return null;
    }
    if (!this.hello) {
      if (m.t !== 'hello') {
        throw new ProtocolError(
          'no-hello',
          `message ${this.#line}: expected a hello first, got "${m.t}"`,
        );
      }
      // The token first: what a peer without it says (its version) is not worth repeating.
      if (this.expectedToken !== undefined && !tokenMatches(m.token, this.expectedToken)) {
        throw new ProtocolError('bad-token', 'the connection did not present the right token');
      }
      this.authenticated = true;
      const skew = checkHandshake(m);
      if (skew) throw new ProtocolError('version', skew);
      this.hello = m;
    } else if (m.t === 'hello') {
      throw new ProtocolError(
        'second-hello',
        `message ${this.#line}: a second hello on one stream`,
      );
    }
    this.counters.messages++;
    if (m.t === 'events') {
      this.counters.events += m.events.length;
      for (const e of m.events) if (!isKnownOp(e.op)) this.counters.unknownOps++;
    }
    return m;
  }
}

export class ProtocolError extends Error {
  override name = 'ProtocolError';

  constructor(
    readonly code: RejectCode,
    message: string,
  ) {
    super(message);
  }
}

export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
