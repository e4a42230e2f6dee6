/**
 * The pg poller's own connection to each server the program talks to (pg-poller.ts): made with the
 * program's connection parameters and pg's own Client class, never observed, unref'd so that it
 * never keeps the program alive, and given up for a second when it fails. The server is asked
 * once who it is, for the prefix of its locks' global keys.
 */
import { clock } from '../clock.js';
import { warnOnce } from '../runtime.js';
import type { ForeignLock } from './foreign.js';
import { clientClass, markProbeClient, type PgClient } from './pg.js';

export interface ProbeClient extends PgClient {
  connect(): Promise<unknown>;
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  on(event: 'error', listener: (err: unknown) => void): unknown;
  end(): Promise<unknown>;
  connection?: { stream?: { unref?: () => unknown } };
}

/** One server the program talks to, by the connection parameters that reach it. */
export interface Server {
  client: ProbeClient | undefined;
  /** The prefix of every resource's global key, once the server has been asked who it is. */
  prefix: string | undefined;
  /** While a poll is on its way. */
  busy: boolean;
  /** When its connection last failed: it is tried again a second later. */
  failedAt: number;
  readonly locks: Map<string, ForeignLock>;
}

/**
 * The poller's connection to `server`, made with the program's own connection parameters and
 * pg's Client class, unref'd so that it never keeps the program alive; the server is asked its
 * system identifier once. Undefined when it cannot connect (said once; tried again later).
 */
export async function probeClient(
  server: Server,
  like: PgClient,
): Promise<ProbeClient | undefined> {
  if (server.client) return server.client;
  if (clock.now() - server.failedAt < 1000) return undefined;
  const Client = clientClass();
  if (!Client) return undefined;
  const p = like.connectionParameters;
  const config: Record<string, unknown> = {
    host: p.host,
    port: p.port,
    database: p.database,
    user: p.user,
    password: p.password,
    ssl: p.ssl,
    application_name: 'lockscope probe',
    // A server that accepts and never answers must not leave a poll (or a refusal) waiting.
    connectionTimeoutMillis: 2000,
  };
  const client = new Client(config) as ProbeClient;
  markProbeClient(client);
  // Before connecting: Node applies it once the socket exists.
  client.connection?.stream?.unref?.();
  client.on('error', () => {
    if (server.client === client) server.client = undefined;
    server.failedAt = clock.now();
  });
  try {
    await client.connect();
    if (server.prefix === undefined) server.prefix = await identify(client, p);
    server.client = client;
    return client;
  } catch (err) {
    server.failedAt = clock.now();
    const code = (err as { code?: unknown } | null)?.code;
    const why = typeof code === 'string' ? code : 'error';
    warnOnce(
      'adapter-pg-connect',
      `the pg adapter could not connect to the server to read its locks (${why}); ` +
        'waits on PostgreSQL locks go unobserved until it can',
    );
    void client.end().catch(() => undefined);
    return undefined;
  }
}

/**
 * The prefix of the server's global keys: its system identifier and the time it started, the same
 * whatever address a process used. The start time tells apart servers cloned from one base
 * backup, which share the identifier (and a restart ends every lock anyway). A role that may not
 * read it (pg_control_system() is not for everyone) gets one made of the host and port the
 * program used and the start time, said once: processes that reach the same server by different
 * names then see different locks.
 */
async function identify(client: ProbeClient, p: Record<string, unknown>): Promise<string> {
  try {
    const { rows } = await client.query(
      "SELECT system_identifier::text || ':' || " +
        '(extract(epoch FROM pg_postmaster_start_time()) * 1000000)::bigint::text AS id ' +
        'FROM pg_control_system()',
    );
    const id = (rows[0] as { id?: unknown } | undefined)?.id;
    if (typeof id === 'string' && id !== '') return `pg:${id}`;
  } catch {
    // Not permitted (or no such function): the fallback below, said once.
  }
  // Any role may read the start time: with it, two servers that each answer at localhost:5432
  // (in two containers, say) are not taken for one.
  let started = '';
  try {
    const { rows } = await client.query(
      'SELECT (extract(epoch FROM pg_postmaster_start_time()) * 1000000)::bigint::text AS t',
    );
    const t = (rows[0] as { t?: unknown } | undefined)?.t;
    if (typeof t === 'string') started = `:${t}`;
  } catch {
    // Then host and port alone.
  }
  const where = `${String(p.host)}:${String(p.port)}`;
  warnOnce(
    'adapter-pg-identity',
    `the pg adapter cannot read the server's system identifier at ${where}; its locks are ` +
      'known by that host name and port, so processes that reach it by another name see other locks',
  );
  return `pg:${where}${started}`;
}
