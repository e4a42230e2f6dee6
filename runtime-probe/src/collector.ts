/**
 * The receiving end of protocol v1: a line decoder, a stream session that validates every message,
 * and a local socket server that only the user can reach. The extension and the CLI build on it;
 * it knows nothing of VS Code.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { makeFolder, removeFolder } from './collector-folder.js';
import {
  checkHandshake,
  decodeLine,
  isKnownOp,
  isUnknownMessage,
  type Hello,
  type Message,
} from './protocol.js';

/**
 * Limits on a connection that has not yet presented a valid hello (a hello is well under 4 KiB):
 * an unauthenticated peer on the same machine must not be able to exhaust the collector.
 */
export const PRE_AUTH = {
  /** The longest line before the hello, in characters. */
  maxLine: 16 * 1024,
  /** How long a connection may take to send its hello. */
  helloMs: 5_000,
  /** Connections without a hello at once; more are refused on arrival. */
  pending: 64,
};
/** Connections at once, authenticated or not. */
export const MAX_CONNECTIONS = 1_024;
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
  | 'too-many-connections';

/** What a refusal says when the peer never authenticated: nothing it sent is repeated. */
const UNAUTHENTICATED: Record<RejectCode, string> = {
  'bad-message': 'a connection sent something that is not a Lockscope hello',
  'no-hello': 'a connection sent something that is not a Lockscope hello',
  'second-hello': 'a connection sent something that is not a Lockscope hello',
  'bad-token': 'a connection did not present the right token',
  // Only an authenticated peer's version is checked; a refusal for it says what to update.
  version: 'a connection speaks another protocol version',
  'line-too-long': `a connection sent more than ${PRE_AUTH.maxLine} characters before its hello`,
  'hello-timeout': `a connection sent no hello within ${PRE_AUTH.helloMs / 1000} s`,
  'too-many-connections': 'too many connections at once',
};

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

function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface Connection {
  readonly id: number;
  readonly session: StreamSession;
  readonly socket: Socket;
  ended: boolean;
  /** Why the collector closed the connection, if it did. */
  closeReason: string | undefined;
}

export interface CollectorHandlers {
  onMessage?(conn: Connection, message: Message): void;
  /**
   * The collector closed a connection: a bad message, token or version, or a limit. The reason
   * repeats nothing a peer sent before it authenticated.
   */
  onReject?(conn: Connection, reason: string, code: RejectCode): void;
  onEnd?(conn: Connection): void;
}

export interface Collector {
  /** The path programs connect to (LOCKSCOPE_ENDPOINT). */
  readonly endpoint: string;
  /** The secret programs must present (LOCKSCOPE_TOKEN). */
  readonly token: string;
  readonly connections: ReadonlySet<Connection>;
  /** The environment a program needs to report here. */
  env(): Record<string, string>;
  close(): Promise<void>;
}

/** The longest Unix socket path, without the terminating NUL (sun_path is 108 bytes on Linux). */
const MAX_SOCKET_PATH = process.platform === 'linux' ? 107 : 103;

/**
 * Listens on a Unix socket in a fresh directory only the user can open (mode 0700), or on a
 * Windows named pipe with a random name, and requires a random token in each hello. The
 * directory goes at `close()`, at the exit of this process if it was never closed, or at the
 * start of a later collector if this process was killed (see collector-folder.ts).
 */
export async function startCollector(
  handlers: CollectorHandlers = {},
  limits: Partial<typeof PRE_AUTH> = {},
): Promise<Collector> {
  const preAuth = { ...PRE_AUTH, ...limits };
  const token = randomBytes(24).toString('hex');
  let dir: string | undefined;
  let endpoint: string;
  if (process.platform === 'win32') {
    endpoint = `\\\\.\\pipe\\lockscope-${randomBytes(12).toString('hex')}`;
  } else {
    dir = makeFolder();
    endpoint = join(dir, 'collector.sock');
  }
  const connections = new Set<Connection>();
  let nextId = 1;
  let pending = 0;
  const server: Server = createServer((socket) => {
    const conn: Connection = {
      id: nextId++,
      session: new StreamSession(token),
      socket,
      ended: false,
      closeReason: undefined,
    };
    const reject = (code: RejectCode, detail: string): void => {
      if (conn.closeReason) return;
      const reason = conn.session.authenticated ? detail : UNAUTHENTICATED[code];
      conn.closeReason = reason;
      handlers.onReject?.(conn, reason, code);
      socket.end(JSON.stringify({ t: 'error', message: reason }) + '\n');
      socket.destroySoon();
    };
    if (connections.size >= MAX_CONNECTIONS || pending >= preAuth.pending) {
      reject('too-many-connections', UNAUTHENTICATED['too-many-connections']);
      socket.destroy();
      return;
    }
    connections.add(conn);
    pending++;
    let authenticating = true;
    const authenticated = (): void => {
      if (!authenticating) return;
      authenticating = false;
      pending--;
      clearTimeout(helloTimer);
    };
    const helloTimer = setTimeout(
      () => reject('hello-timeout', UNAUTHENTICATED['hello-timeout']),
      preAuth.helloMs,
    );
    helloTimer.unref();
    const decoder = new LineDecoder(MAX_LINE);
    socket.setEncoding('utf8');
    const tooLong = (): never => {
      throw new ProtocolError('line-too-long', UNAUTHENTICATED['line-too-long']);
    };
    socket.on('data', (chunk: string) => {
      if (conn.closeReason) return;
      try {
        const lines = decoder.push(chunk);
        for (const line of lines) {
          // Before the hello, a line (and what is held of the next) has the small limit.
          if (authenticating && line.length > preAuth.maxLine) tooLong();
          const m = conn.session.accept(line);
          if (m?.t === 'hello') authenticated();
          if (m) handlers.onMessage?.(conn, m);
        }
        if (authenticating && decoder.pending.length > preAuth.maxLine) tooLong();
      } catch (err) {
        const code = err instanceof ProtocolError ? err.code : 'bad-message';
        reject(code, err instanceof Error ? err.message : String(err));
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      authenticated();
      conn.ended = true;
      connections.delete(conn);
      handlers.onEnd?.(conn);
    });
  });
  try {
    if (dir && Buffer.byteLength(endpoint) > MAX_SOCKET_PATH) {
      // Some Node versions bind a truncated path instead of failing, which would put the socket
      // outside the private directory and never remove it.
      throw new Error(
        `the collector socket path ${endpoint} is longer than ${MAX_SOCKET_PATH} bytes, the ` +
          `limit for Unix sockets on this system; set TMPDIR to a shorter directory`,
      );
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(endpoint, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    // Do not leave the fresh directory behind when the socket cannot be created.
    if (dir) removeFolder(dir);
    throw err;
  }
  return {
    endpoint,
    token,
    connections,
    // A collector's programs deliver losslessly: the analysis depends on every event.
    env: () => ({ LOCKSCOPE_ENDPOINT: endpoint, LOCKSCOPE_TOKEN: token, LOCKSCOPE_LOSSLESS: '1' }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.socket.destroy();
        server.close(() => {
          if (dir) removeFolder(dir);
          resolve();
        });
      }),
  };
}
