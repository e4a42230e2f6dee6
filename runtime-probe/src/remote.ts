/**
 * A collector other hosts can reach: TCP with TLS 1.3, keyed by the session's token. Both ends
 * derive one pre-shared key from the token (HKDF-SHA256), so the token itself never crosses the
 * network, no certificate is generated or checked, and a peer without the token cannot complete
 * the handshake: TLS refuses it before the collector reads a byte. Endpoints of this kind are
 * written `tls://HOST:PORT` in LOCKSCOPE_ENDPOINT; anything else is a local socket path.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { connect as connectLocal, type Socket } from 'node:net';
import { connect as connectTls, type TlsOptions } from 'node:tls';

export const REMOTE_SCHEME = 'tls://';

/** The identity a probe presents with its key; one per protocol generation. */
export const PSK_IDENTITY = 'lockscope/1';

/**
 * TLS 1.3 only, with a suite whose hash is SHA-256: OpenSSL uses a key from the PSK callbacks for
 * TLS 1.3 only with such a suite.
 */
const TLS_PARAMETERS = {
  minVersion: 'TLSv1.3',
  maxVersion: 'TLSv1.3',
  ciphers: 'TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256',
} as const;

export interface HostPort {
  host: string;
  port: number;
}

/** The pre-shared key of a session's token. */
export function pskOf(token: string): Buffer {
  return Buffer.from(hkdfSync('sha256', token, 'lockscope collect', 'tls 1.3 psk v1', 32));
}

/**
 * `HOST:PORT` (an IPv6 host in brackets, `[::1]:7000`) as given to `--listen` or after
 * `tls://`; returns what is wrong with it instead when it is not one.
 */
export function parseHostPort(text: string): HostPort | string {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || !(port >= 0 && port <= 65_535)) {
    return `"${text}" is not HOST:PORT (for example 0.0.0.0:7000, or [::1]:7000)`;
  }
  return { host: m[1] ?? m[2]!, port };
}

/** The remote endpoint an endpoint string names, or undefined for a local socket path. */
export function remoteOf(endpoint: string): HostPort | string | undefined {
  return endpoint.startsWith(REMOTE_SCHEME)
    ? parseHostPort(endpoint.slice(REMOTE_SCHEME.length))
    : undefined;
}

/** `tls://host:port`, with brackets around an IPv6 host. */
export function remoteEndpoint({ host, port }: HostPort): string {
  return `${REMOTE_SCHEME}${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The server side's TLS options: the key of `token` for the one identity, nothing else. */
export function serverTls(token: string): TlsOptions {
  const key = pskOf(token);
  return {
    ...TLS_PARAMETERS,
    // An unknown identity gets a key of random bytes rather than a refusal, so that a peer
    // learns nothing from how the handshake fails.
    pskCallback: (_socket, identity) => (identity === PSK_IDENTITY ? key : randomBytes(32)),
  };
}

/**
 * What a client needs to reach a remote collector, as plain data that can cross to the I/O
 * thread (workerData): undefined for a local socket path. Throws on a malformed remote endpoint,
 * which is checked where LOCKSCOPE_ENDPOINT is read.
 */
export function clientParameters(
  endpoint: string,
  token: string,
): (HostPort & typeof TLS_PARAMETERS & { psk: Uint8Array; identity: string }) | undefined {
  const remote = remoteOf(endpoint);
  if (remote === undefined) return undefined;
  if (typeof remote === 'string') throw new Error(`LOCKSCOPE_ENDPOINT: ${remote}`);
  return { ...TLS_PARAMETERS, ...remote, psk: pskOf(token), identity: PSK_IDENTITY };
}

/** Connects to a collector: a local socket path, or `tls://host:port` with the token's key. */
export function connectCollector(endpoint: string, token: string): Socket {
  const p = clientParameters(endpoint, token);
  if (!p) return connectLocal(endpoint);
  // The I/O thread's script (transports/thread.ts) makes the same options from the same data.
  const { psk, identity, ...options } = p;
  return connectTls({
    ...options,
    pskCallback: () => ({ psk: Buffer.from(psk), identity }),
    // No certificate is involved: the key is what authenticates the collector.
    checkServerIdentity: () => undefined,
  });
}

/**
 * Whether a remote connection's error is TLS refusing the handshake, by its code: an OpenSSL
 * error, or EPROTO on a write the refusal failed.
 */
export function isKeyRefused(endpoint: string, err: NodeJS.ErrnoException): boolean {
  if (remoteOf(endpoint) === undefined) return false;
  return err.code === 'EPROTO' || (typeof err.code === 'string' && err.code.startsWith('ERR_SSL_'));
}

/** What a remote collector's refusal of the key means to the user. */
export function keyRefusedMessage(endpoint: string): string {
  return (
    `the collector at ${endpoint} refused the connection: the token (LOCKSCOPE_TOKEN) is not ` +
    `that collector's (the TLS handshake failed)`
  );
}
