/**
 * The receiving end of protocol v1: a line decoder, a stream session that validates every message,
 * and a local socket server that only the user can reach. The extension and the CLI build on it;
 * it knows nothing of VS Code.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { makeFolder, removeFolder } from './collector-folder.js';
import type { Message } from './protocol.js';
import { LineDecoder, MAX_LINE, ProtocolError, StreamSession, type RejectCode } from './stream.js';

export {
  LineDecoder,
  MAX_LINE,
  ProtocolError,
  StreamSession,
  type RejectCode,
  type SessionCounters,
} from './stream.js';

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
