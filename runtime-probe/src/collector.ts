/**
 * The receiving end of protocol v1: a line decoder, a stream session that validates every message,
 * and a local socket server that only the user can reach. The extension and the CLI build on it;
 * it knows nothing of VS Code.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { makeFolder, removeFolder } from './collector-folder.js';
import { isAttach, listenRemote, type RemoteListener } from './collector-remote.js';
import { remoteEndpoint, type HostPort } from './remote.js';
import type { Message } from './protocol.js';
import { LineDecoder, MAX_LINE, ProtocolError, StreamSession, type RejectCode } from './stream.js';

export { attachLine } from './collector-remote.js';
export {
  connectCollector,
  isHandshakeFailure,
  handshakeFailedMessage,
  remoteOf,
} from './remote.js';
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
  'handshake-timeout': `a connection did not finish its TLS handshake within ${PRE_AUTH.helloMs / 1000} s`,
  'too-many-connections': 'too many connections at once',
  'no-viewers': 'a viewer tried to attach, and this collector takes none',
};

export interface Connection {
  readonly id: number;
  readonly session: StreamSession;
  readonly socket: Socket;
  ended: boolean;
  /** Why the collector closed the connection, if it did. */
  closeReason: string | undefined;
  /** True for a viewer that attached, rather than a program that reports. */
  viewer?: boolean;
}

export interface CollectorHandlers {
  onMessage?(conn: Connection, message: Message): void;
  /**
   * The collector closed a connection: a bad message, token or version, or a limit. The reason
   * repeats nothing a peer sent before it authenticated.
   */
  onReject?(conn: Connection, reason: string, code: RejectCode): void;
  onEnd?(conn: Connection): void;
  /**
   * A viewer attached (collector-remote.ts's `attach` line with the token): it reads what
   * `conn.socket` is sent and sends nothing more. Without this handler no viewer can attach.
   */
  onAttach?(conn: Connection): void;
}

export interface Collector {
  /** The path programs connect to (LOCKSCOPE_ENDPOINT). */
  readonly endpoint: string;
  /** Where it listens for other hosts (`listen`), with the port it was given. */
  readonly remote: HostPort | undefined;
  /** The secret programs must present (LOCKSCOPE_TOKEN). */
  readonly token: string;
  readonly connections: ReadonlySet<Connection>;
  /** The environment a program needs to report here. */
  env(): Record<string, string>;
  /** The environment a program on another host needs, reaching this one as `host`. */
  remoteEnv(host: string): Record<string, string>;
  close(): Promise<void>;
}

/**
 * A log of refusals that a flood cannot flood: each kind is logged once with its reason, then
 * again only at its 10th, 100th, 1,000th... time, with the count.
 */
export function refusalLog(
  log: (line: string) => void,
): (reason: string, code: RejectCode) => void {
  const seen = new Map<RejectCode, number>();
  return (reason, code) => {
    const n = (seen.get(code) ?? 0) + 1;
    seen.set(code, n);
    if (n === 1) log(`connection refused: ${reason}`);
    else if (isPowerOfTen(n)) log(`${n} connections refused: ${reason}`);
  };
}

/** 10, 100, 1000...: when a repeated refusal is worth a line with its count. */
function isPowerOfTen(n: number): boolean {
  let m = n;
  while (m >= 10 && m % 10 === 0) m /= 10;
  return n >= 10 && m === 1;
}

/** The longest Unix socket path, without the terminating NUL (sun_path is 108 bytes on Linux). */
const MAX_SOCKET_PATH = process.platform === 'linux' ? 107 : 103;

export interface CollectorOptions {
  /**
   * Also listen for other hosts here, over TLS keyed by the token (collector-remote.ts). Off by
   * default: the default collector is reachable only by its user on this machine.
   */
  listen?: HostPort;
}

/**
 * Listens on a Unix socket in a fresh directory only the user can open (mode 0700), or on a
 * Windows named pipe with a random name, and requires a random token in each hello. The
 * directory goes at `close()`, at the exit of this process if it was never closed, or at the
 * start of a later collector if this process was killed (see collector-folder.ts).
 */
export async function startCollector(
  handlers: CollectorHandlers = {},
  limits: Partial<typeof PRE_AUTH> = {},
  options: CollectorOptions = {},
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
  const newConnection = (socket: Socket): Connection => ({
    id: nextId++,
    session: new StreamSession(token),
    socket,
    ended: false,
    closeReason: undefined,
  });
  const refuse = (conn: Connection, code: RejectCode, reason: string): void => {
    conn.closeReason = reason;
    handlers.onReject?.(conn, reason, code);
  };
  /** A connection, local or remote once its handshake is done: the protocol from its hello on. */
  const serve = (socket: Socket): void => {
    const conn = newConnection(socket);
    const reject = (code: RejectCode, detail: string): void => {
      if (conn.closeReason) return;
      refuse(conn, code, conn.session.authenticated ? detail : UNAUTHENTICATED[code]);
      socket.end(JSON.stringify({ t: 'error', message: conn.closeReason }) + '\n');
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
      // A viewer only reads: what it sends after attaching is not even decoded.
      if (conn.closeReason || conn.viewer) return;
      try {
        const lines = decoder.push(chunk);
        for (const line of lines) {
          // Before the hello, a line (and what is held of the next) has the small limit.
          if (authenticating && line.length > preAuth.maxLine) tooLong();
          if (authenticating && isAttach(line, token, handlers.onAttach !== undefined)) {
            conn.viewer = true;
            authenticated();
            handlers.onAttach?.(conn);
            return;
          }
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
  };
  const server: Server = createServer(serve);
  let remote: RemoteListener | undefined;
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
    if (options.listen) {
      remote = await listenRemote(options.listen, token, preAuth, {
        serve,
        busy: (handshaking) => connections.size + handshaking >= MAX_CONNECTIONS,
        refuse: (socket, code) => refuse(newConnection(socket), code, UNAUTHENTICATED[code]),
      });
    }
  } catch (err) {
    // Do not leave the fresh directory (or a listening socket) behind when a listener fails.
    if (server.listening) server.close();
    if (dir) removeFolder(dir);
    throw err;
  }
  const envFor = (at: string): Record<string, string> => ({
    LOCKSCOPE_ENDPOINT: at,
    LOCKSCOPE_TOKEN: token,
    // A collector's programs deliver losslessly: the analysis depends on every event.
    LOCKSCOPE_LOSSLESS: '1',
  });
  return {
    endpoint,
    remote: remote?.address,
    token,
    connections,
    env: () => envFor(endpoint),
    remoteEnv: (host) => {
      if (!remote) throw new Error('this collector does not listen for other hosts');
      return envFor(remoteEndpoint({ host, port: remote.address.port }));
    },
    close: async () => {
      for (const c of connections) c.socket.destroy();
      await Promise.all([
        remote?.close(),
        new Promise<void>((resolve) => server.close(() => resolve())),
      ]);
      if (dir) removeFolder(dir);
    },
  };
}
