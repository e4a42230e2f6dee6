/**
 * A collector other hosts can reach: TCP with TLS 1.3, keyed by the session's token. Both ends
 * derive one pre-shared key from the token (HKDF-SHA256), so the token itself never crosses the
 * network, no certificate is generated or checked, and a peer without the token cannot complete
 * the handshake: TLS refuses it before the collector reads a byte. Endpoints of this kind are
 * written `tls://HOST:PORT` in LOCKSCOPE_ENDPOINT; anything else is a local socket path.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { connect as connectLocal, isIP, type Socket } from 'node:net';
import { connect as connectTls, type TlsOptions } from 'node:tls';

export const REMOTE_SCHEME = 'tls://';

/** Why a server that answered with a certificate instead of the session's key is refused. */
export const NOT_KEYED =
  "the server did not use the session key: it is not this session's collector";

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
 * `HOST:PORT` as given to `--listen` or after `tls://`: a host name, an IPv4 address, or an IPv6
 * address in brackets (`[::1]:7000`, a zone allowed: `[fe80::1%eth0]:7000`). Port 0 (any free
 * port) only for `listen`. Returns what is wrong with it instead when it is not one.
 */
export function parseHostPort(
  text: string,
  use: 'listen' | 'connect' = 'connect',
): HostPort | string {
  const m = /^(?:\[([^\]]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  const host = m?.[1] ?? m?.[2];
  const problem = `"${text}" is not HOST:PORT (for example 0.0.0.0:7000, or [::1]:7000)`;
  if (!m || host === undefined || port > 65_535) return problem;
  if (m[1] !== undefined && isIP(m[1]) !== 6) return problem;
  if (port === 0 && use !== 'listen') return `"${text}": port 0 is only for --listen`;
  return { host, port };
}

/** Whether `host` is a wildcard address (every interface), which other hosts cannot dial. */
export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || (isIP(host) === 6 && /^[0:]+$/.test(host));
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
    // Node asks only when the server did not use the key but showed a certificate, however
    // valid: the key is what authenticates a collector, so a certificate is refused.
    checkServerIdentity: () => new Error(NOT_KEYED),
  });
}

/**
 * Whether a remote connection's error is its TLS handshake failing, by its code: an OpenSSL
 * error, or EPROTO on a write the failure ended. A wrong token is one cause; a server that is not
 * a Lockscope collector is another, and the codes do not always tell them apart.
 */
export function isHandshakeFailure(endpoint: string, err: NodeJS.ErrnoException): boolean {
  if (remoteOf(endpoint) === undefined) return false;
  if (err.message === NOT_KEYED) return true;
  return err.code === 'EPROTO' || (typeof err.code === 'string' && err.code.startsWith('ERR_SSL_'));
}

/** What a failed handshake with a remote collector means to the user. */
export function handshakeFailedMessage(endpoint: string): string {
  return (
    `the collector at ${endpoint} refused the connection: the TLS handshake failed, so the ` +
    `token (LOCKSCOPE_TOKEN) is not that collector's, or ${endpoint} is not a Lockscope collector`
  );
}
