/**
 * The collector's opt-in listener for other hosts: TCP with TLS 1.3 keyed by the session's token
 * (remote.ts). The handshake is the authentication, so it gets the limits the local socket gives
 * a peer before its hello: at most `pending` handshakes at once, each within `helloMs`. A
 * connection whose handshake succeeds is served exactly as a local one (`serve`), hello and
 * token included.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createSecureContext, TLSSocket, type TLSSocketOptions, type TlsOptions } from 'node:tls';
import { serverTls, type HostPort } from './remote.js';
import { PROTOCOL_VERSION } from './protocol.js';
import { ProtocolError, tokenMatches, type RejectCode } from './stream.js';

/**
 * The line a viewer (the editor attaching to a collector) sends instead of a hello: it reads the
 * collector's analysis as `report` lines and sends nothing else.
 */
export interface AttachLine {
  t: 'attach';
  v: number;
  token: string;
}

/** The attach line of a viewer that has `token`, ready to send. */
export function attachLine(token: string): string {
  const line: AttachLine = { t: 'attach', v: PROTOCOL_VERSION, token };
  return JSON.stringify(line) + '\n';
}

/**
 * Whether `line` is a viewer's attach line: false for anything else (a hello among them), so that
 * the protocol's own checks handle it. An attach line without the token, or of another version,
 * or to a collector that `takesViewers` not (a `lockscope run`, the editor's own session), is
 * refused.
 */
export function isAttach(line: string, token: string, takesViewers = true): boolean {
  let m: Partial<AttachLine> | null;
  try {
    m = JSON.parse(line) as Partial<AttachLine> | null;
  } catch {
    return false;
  }
  if (typeof m !== 'object' || m === null || m.t !== 'attach') return false;
  if (!takesViewers) {
    // Said before the token is checked: it tells a peer nothing but what the collector is.
    throw new ProtocolError(
      'no-viewers',
      'a viewer tried to attach, and this collector takes none',
    );
  }
  if (!tokenMatches(typeof m.token === 'string' ? m.token : undefined, token)) {
    throw new ProtocolError('bad-token', 'the viewer did not present the right token');
  }
  if (m.v !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      'version',
      `the viewer speaks protocol ${String(m.v)}, not ${PROTOCOL_VERSION}`,
    );
  }
  return true;
}

/** What the listener needs of the collector it serves. */
export interface RemoteHooks {
  /** Serves a connection whose handshake succeeded. */
  serve(socket: Socket): void;
  /** Whether the collector is at its limit of connections, counting those in their handshake. */
  busy(handshaking: number): boolean;
  /** Tells of a connection refused before or during its handshake. */
  refuse(socket: Socket, code: RejectCode): void;
}

export interface RemoteListener {
  /** Where it listens: the host asked for, and the port the system gave when 0 was asked. */
  readonly address: HostPort;
  close(): Promise<void>;
}

/**
 * Handshakes at once from one address: a single host cannot take every place that programs
 * starting elsewhere need.
 */
export const HANDSHAKES_PER_ADDRESS = 8;

/** The TLS failure of a wrong key, by its code: the peer does not have the token. */
const WRONG_KEY = 'ERR_SSL_BINDER_DOES_NOT_VERIFY';

/** Listens at `at` for programs on other hosts, handing each keyed connection to `hooks.serve`. */
export async function listenRemote(
  at: HostPort,
  token: string,
  limits: { pending: number; helloMs: number },
  hooks: RemoteHooks,
): Promise<RemoteListener> {
  const tlsOptions = serverTls(token);
  const secureContext = createSecureContext(tlsOptions);
  let handshaking = 0;
  const sockets = new Set<Socket>();
  const byAddress = new Map<string, number>();
  const server: Server = createServer((raw) => {
    const address = raw.remoteAddress ?? '';
    const fromThere = byAddress.get(address) ?? 0;
    if (
      hooks.busy(handshaking) ||
      handshaking >= limits.pending ||
      fromThere >= HANDSHAKES_PER_ADDRESS
    ) {
      hooks.refuse(raw, 'too-many-connections');
      raw.destroy();
      return;
    }
    sockets.add(raw);
    raw.once('close', () => sockets.delete(raw));
    handshaking++;
    byAddress.set(address, fromThere + 1);
    let shaking = true;
    const over = (): void => {
      if (!shaking) return;
      shaking = false;
      handshaking--;
      const left = (byAddress.get(address) ?? 1) - 1;
      if (left > 0) byAddress.set(address, left);
      else byAddress.delete(address);
      clearTimeout(timer);
    };
    // Node's TLSSocket takes `pskCallback` as tls.Server passes it, though @types/node declares
    // it only on the server's options.
    const socketOptions: TLSSocketOptions & Pick<TlsOptions, 'pskCallback'> = {
      isServer: true,
      secureContext,
      pskCallback: tlsOptions.pskCallback,
    };
    const socket = new TLSSocket(raw, socketOptions);
    const timer = setTimeout(() => {
      if (!shaking) return;
      over();
      hooks.refuse(raw, 'handshake-timeout');
      socket.destroy();
    }, limits.helloMs);
    timer.unref();
    socket.once('secure', () => {
      over();
      hooks.serve(socket);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (shaking) {
        over();
        hooks.refuse(raw, err.code === WRONG_KEY ? 'bad-token' : 'bad-message');
      }
      socket.destroy();
    });
    raw.once('close', over);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : at.port;
  return {
    address: { host: at.host, port },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
