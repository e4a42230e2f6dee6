/**
 * The PostgreSQL adapter, for the `pg` package: it knows, for each of the program's connections,
 * which query is in flight, the flow that made it and the program's line, and hands the rest to
 * the poller (pg-poller.ts), which learns the locks themselves from the server. It never reads a
 * query's text or an error's message: a key computed in SQL (`hashtext(...)`) is known by the
 * server alone, and only codes (SQLSTATE) are read from errors.
 *
 * Patched: `Client.prototype.query` in its three forms (a callback, a promise, a Submittable
 * such as a cursor; every one passes its query object to the client's queue, whose completion,
 * `handleReadyForQuery` or `handleError`, ends it), and `Client.prototype.end`, after which the
 * connection's locks are gone with its session. `pg.Pool` hands out Clients of the same class.
 * The native client (`pg.native`) is not observed.
 */
import { currentFlow } from '../identity.js';
import { clock } from '../clock.js';
import { rt, shared, type Flow } from '../runtime.js';
import { siteForBlocking } from '../sync.js';
import { flush } from '../recorder.js';
import type { ForeignWait } from './foreign.js';

/** How long a refused query's error waits, once recorded and delivered, before pg handles it. */
export const AFTER_REFUSAL_MS = 100;

/** The versions whose client internals the adapter reads (`_queryQueue`, `_activeQuery`). */
export const PG_RANGE = { min: '8.23.0', below: '9.0.0' } as const;

/** How many flows of a connection's queries are kept between two polls (PgConn.flows). */
export const MAX_FLOWS = 8;

/** What the adapter reads of a pg Client; the rest is the package's own. */
export interface PgClient {
  processID: number | null;
  connectionParameters: Record<string, unknown>;
  _queryQueue?: unknown[];
  _sentQueryQueue?: unknown[];
  _activeQuery?: unknown;
  _ending?: boolean;
  _ended?: boolean;
  _queryable?: boolean;
}

/** A query object of pg's (a Query, or a Submittable the program made). */
interface PgQueryObject {
  handleError?: (err: unknown, connection: unknown) => unknown;
  handleReadyForQuery?: (connection: unknown) => unknown;
}

/** One query the program made, from its call until pg completes it. */
export interface PgQuery {
  readonly flow: Flow;
  readonly site: number;
  /** When it became the connection's query at the server (or was made), on the probe's clock. */
  since: number;
  /** The wait the poller saw this query make, and the lock's key. */
  wait: ForeignWait | undefined;
  waitKey: string | undefined;
  done: boolean;
  /** PostgreSQL refused its wait (40P01): it waited, though no lock is awaited any more. */
  refused: boolean;
}

/** One of the program's connections, as the adapter knows it. */
export interface PgConn {
  readonly client: PgClient;
  /** Queries made and not yet completed, in the order pg runs them. */
  readonly queries: PgQuery[];
  /** The last query to complete, which the poller may attribute a lock to. */
  lastDone: PgQuery | undefined;
  /**
   * The flows of the queries made on this connection since the poller last read its locks, and
   * of those still queued or in flight then: a lock first seen was taken by one of them.
   */
  flows: Set<Flow>;
  /** Whether the waits of this connection may give up: the client sets a timeout. */
  readonly bounded: boolean;
}

/** What the poller is told; set by pg-poller.ts so that this file imports none of it. */
export interface PgEvents {
  /** A query began; the poller starts its timer if none runs. */
  started(conn: PgConn): void;
  /** A query ended, `code` its SQLSTATE when it failed. */
  ended(conn: PgConn, q: PgQuery, code: string | undefined): void;
  /** The connection's session is over: its locks are gone. */
  closed(conn: PgConn): void;
  /** PostgreSQL refused `q`'s wait (40P01); `then` is called once its sessions have been seen. */
  refused(conn: PgConn, q: PgQuery, then: () => void): void;
}

type Query = (this: PgClient, config: unknown, values?: unknown, callback?: unknown) => unknown;
type End = (this: PgClient, cb?: unknown) => unknown;

const st = shared('adapter-pg', () => ({
  conns: new WeakMap<object, PgConn>(),
  patched: new WeakSet<object>(),
  /** The poller's own clients, never observed. */
  probeClients: new WeakSet<object>(),
  tracked: new WeakSet<object>(),
  events: undefined as PgEvents | undefined,
  /** The Client classes patched, so that the poller makes its connections with the same one. */
  classes: [] as (new (config: Record<string, unknown>) => PgClient)[],
  /** The caller of the `pool.query()` whose client query is being made, for that call only. */
  onBehalf: undefined as { flow: Flow; site: number } | undefined,
}));

/** Hands the poller its events; called once by pg-poller.ts. */
export function setPgEvents(events: PgEvents): void {
  st.events = events;
}

/** Marks a client as the poller's own: its queries are neither observed nor polled. */
export function markProbeClient(client: object): void {
  st.probeClients.add(client);
}

/** The Client class the program's pg uses, for the poller's own connections. */
export function clientClass(): (new (config: Record<string, unknown>) => PgClient) | undefined {
  return st.classes[0];
}

function connOf(client: PgClient): PgConn {
  let conn = st.conns.get(client);
  if (!conn) {
    const p = client.connectionParameters;
    const bounded = ['statement_timeout', 'lock_timeout', 'query_timeout'].some(
      (k) => typeof p[k] === 'number' && p[k] > 0,
    );
    conn = { client, queries: [], lastDone: undefined, flows: new Set(), bounded };
    st.conns.set(client, conn);
  }
  return conn;
}

/** The query object `query()` just queued, or undefined when pg refused it at once. */
function queuedQuery(client: PgClient, config: unknown): PgQueryObject | undefined {
  const submittable =
    typeof config === 'object' &&
    config !== null &&
    typeof (config as { submit?: unknown }).submit === 'function';
  const last = (queue: unknown[] | undefined): unknown =>
    Array.isArray(queue) && queue.length > 0 ? queue[queue.length - 1] : undefined;
  // Queued behind others, else sent (a pipelined client sends at once), else the active one.
  const q = submittable
    ? config
    : (last(client._queryQueue) ?? last(client._sentQueryQueue) ?? client._activeQuery);
  if (typeof q !== 'object' || q === null || st.tracked.has(q)) return undefined;
  return q;
}

/** The SQLSTATE of a failed query's error, read as data (`code`), never from its text. */
function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : 'failed';
}

/** Ends a query once, however pg completes it, and starts the next one's clock. */
function completion(conn: PgConn, pq: PgQuery, q: PgQueryObject): void {
  const end = (err: unknown): void => {
    if (pq.done) return;
    pq.done = true;
    const at = conn.queries.indexOf(pq);
    if (at >= 0) conn.queries.splice(at, 1);
    const next = conn.queries[0];
    if (next) next.since = clock.now();
    conn.lastDone = pq;
    st.events?.ended(conn, pq, err === undefined ? undefined : sqlState(err));
  };
  const onError = q.handleError;
  const onReady = q.handleReadyForQuery;
  // Own properties in front of the prototype's, called before pg's own so that the wait's end
  // is recorded before the program's callback runs.
  if (typeof onError === 'function') {
    q.handleError = function (this: unknown, err: unknown, connection: unknown) {
      const events = st.events;
      if (events && !pq.done && sqlState(err) === '40P01') {
        // PostgreSQL broke a deadlock through this query. The program hears of it later: first
        // the other sessions' waits, which stand while this one keeps its locks, are polled by
        // their processes (`refused`), then the failed wait is recorded and delivered, and only
        // then may the program react (a rollback, an end) and let the others through, so that
        // the session sees the cycle, then the refusal, then the grants.
        events.refused(conn, pq, () => {
          end(err);
          flush();
          clock.setTimeout(() => onError.call(this, err, connection), AFTER_REFUSAL_MS);
        });
        return undefined;
      }
      end(err ?? 'failed');
      return onError.call(this, err, connection);
    };
  }
  if (typeof onReady === 'function') {
    q.handleReadyForQuery = function (this: unknown, connection: unknown) {
      // A Query whose rows failed to parse ends through handleError, called from here.
      if (!(this as { _canceledDueToError?: unknown })._canceledDueToError) end(undefined);
      return onReady.call(this, connection);
    };
  }
}

function observedQuery(
  client: PgClient,
  original: Query,
  config: unknown,
  values: unknown,
  callback: unknown,
): unknown {
  // A query `pool.query()` makes for the program is the flow's and the line's that called it.
  const onBehalf = st.onBehalf;
  st.onBehalf = undefined;
  const flow = onBehalf?.flow ?? currentFlow();
  const site = onBehalf?.site ?? siteForBlocking();
  const result = original.call(client, config, values, callback);
  const q = queuedQuery(client, config);
  if (!q) return result;
  st.tracked.add(q);
  const conn = connOf(client);
  const pq: PgQuery = {
    flow,
    site,
    since: clock.now(),
    wait: undefined,
    waitKey: undefined,
    done: false,
    refused: false,
  };
  conn.queries.push(pq);
  // Bounded: past a few flows the attribution is a guess anyway (pg-poller.ts, `surelyOf`).
  if (conn.flows.size < MAX_FLOWS) conn.flows.add(flow);
  completion(conn, pq, q);
  st.events?.started(conn);
  return result;
}

/** Patches pg's Client class once; false when it does not have its known shape. */
export function patchPg(Client: unknown): boolean {
  const proto = (Client as { prototype?: { query?: unknown; end?: unknown } } | undefined)
    ?.prototype;
  if (typeof Client !== 'function' || !proto) return false;
  if (typeof proto.query !== 'function' || typeof proto.end !== 'function') return false;
  if (st.patched.has(proto)) return true;
  st.patched.add(proto);
  st.classes.push(Client as new (config: Record<string, unknown>) => PgClient);
  const query = proto.query as Query;
  const end = proto.end as End;
  proto.query = function (this: PgClient, config: unknown, values?: unknown, callback?: unknown) {
    if (!rt.recording || st.probeClients.has(this) || config === null || config === undefined) {
      return query.call(this, config, values, callback);
    }
    return observedQuery(this, query, config, values, callback);
  };
  proto.end = function (this: PgClient, cb?: unknown) {
    const conn = st.conns.get(this);
    if (conn) st.events?.closed(conn);
    return end.call(this, cb);
  };
  return true;
}

type PoolQuery = (this: PoolLike, text: unknown, values?: unknown, cb?: unknown) => unknown;
type Connect = (cb: (err: unknown, client: unknown, release: unknown) => unknown) => unknown;
interface PoolLike {
  connect: Connect;
}

/**
 * Patches pg-pool's `query`, which checks a client out and makes the query from the callback of
 * its `connect`, where neither the program's flow nor its line is current: the caller's are
 * captured at the call and given to that one client query. pg-pool calls `this.connect`
 * synchronously inside `query`, so the instance's `connect` is wrapped for that call only.
 */
export function patchPgPool(Pool: unknown): boolean {
  const proto = (Pool as { prototype?: { query?: unknown; connect?: unknown } } | undefined)
    ?.prototype;
  if (typeof Pool !== 'function' || !proto) return false;
  if (typeof proto.query !== 'function' || typeof proto.connect !== 'function') return false;
  if (st.patched.has(proto)) return true;
  st.patched.add(proto);
  const query = proto.query as PoolQuery;
  proto.query = function (this: PoolLike, text: unknown, values?: unknown, cb?: unknown) {
    if (!rt.recording || Object.prototype.hasOwnProperty.call(this, 'connect')) {
      return query.call(this, text, values, cb);
    }
    const caller = { flow: currentFlow(), site: siteForBlocking() };
    const connect = this.connect;
    this.connect = (done) =>
      connect.call(this, (err, client, release) => {
        st.onBehalf = err ? undefined : caller;
        try {
          return done(err, client, release);
        } finally {
          st.onBehalf = undefined;
        }
      });
    try {
      return query.call(this, text, values, cb);
    } finally {
      delete (this as Partial<PoolLike>).connect;
    }
  };
  return true;
}
