/**
 * The PostgreSQL poller: while a query of the program's has been in flight for POLL_DELAY_MS, it
 * asks the server which locks this process's backends hold and await (`pg_locks`, for `pid =
 * ANY(...)`), over a connection of its own that is never observed and never keeps the program
 * alive, and turns what changed since the last answer into the foreign layer's events:
 *
 * - a granted advisory lock (session or transaction level, shared or exclusive) or transaction id
 *   lock, first seen, is an acquisition by the flow of the connection's query that most likely
 *   took it (`attribution`), at that query's line; its disappearance is a release;
 * - a lock a backend awaits (a row that is not granted) is a wait of the connection's query in
 *   flight, at its line, that ends when the query returns: granted when it succeeds, a failed wait
 *   with the deadlock-victim code when PostgreSQL broke a deadlock through it (SQLSTATE 40P01).
 *
 * A transaction that waits for a row waits for the transaction holding it: PostgreSQL shows that
 * as a not-granted ShareLock on the holder's `transactionid`, which every writing transaction
 * holds on its own id, so row-lock cycles close as advisory ones do. Locks are read-write locks
 * to the analysis: ShareLock the shared mode (1), ExclusiveLock the exclusive one (2).
 *
 * A lock's resource is global: `pg:<system identifier>:<start time>:...` is the same in every process talking
 * to the same server, whatever host name each used, so that a cycle across processes is one.
 */
import { clock } from '../clock.js';
import { resolved } from '../identity.js';
import { markUncertain } from '../runs.js';
import { shared, type Flow } from '../runtime.js';
import { ErrorCode } from '../sync.js';
import {
  forgetUnused,
  foreignLock,
  grantedAtCall,
  released,
  waitFailed,
  waitFor,
  waitGaveUp,
  waitGranted,
  type ForeignHold,
  type ForeignLock,
} from './foreign.js';
import {
  CANDIDATES_SQL,
  LOCKS_SQL,
  lockKey,
  lockName,
  modeOf,
  parseRows,
  type LockRow,
} from './pg-locks.js';
import { probeClient, type Server } from './pg-server.js';
import { MAX_FLOWS, setPgEvents, type PgClient, type PgConn, type PgQuery } from './pg.js';

/** How long a query runs before the poller asks the server about its locks. */
export const POLL_DELAY_MS = 50;
/** How often it asks again while a query still runs. */
export const POLL_EVERY_MS = 50;

/**
 * How long the error of a query PostgreSQL refused (40P01) is held from the program: while it
 * is, the refused session keeps its locks, so the others of the cycle still wait for them and
 * their processes poll them (POLL_DELAY_MS, then a connection and an answer) before the refusal
 * reaches the session.
 */
export const REFUSAL_HOLD_MS = 400;

/** The longest the error of a refused query is held, whatever the poller's connection does. */
export const REFUSAL_LIMIT_MS = 2000;

/** The poller's own connection, the part of pg's Client it uses. */
/** A lock a connection holds as the analysis was told. */
interface Held {
  readonly lock: ForeignLock;
  readonly hold: ForeignHold | undefined;
  readonly mode: number;
}

const st = shared('adapter-pg-poller', () => ({
  /** The program's connections the poller knows, until their session ends. */
  live: new Set<PgConn>(),
  held: new WeakMap<PgConn, Map<string, Held>>(),
  /** Connections with a completed query since the last poll and holds that query may have ended. */
  dirty: new WeakSet<PgConn>(),
  servers: new Map<string, Server>(),
  timer: false,
}));

function heldOf(conn: PgConn): Map<string, Held> {
  let held = st.held.get(conn);
  if (!held) st.held.set(conn, (held = new Map<string, Held>()));
  return held;
}

function lockOf(server: Server, key: string, row: LockRow): ForeignLock {
  let lock = server.locks.get(key);
  if (!lock) {
    const name = lockName(row);
    lock = foreignLock('rwlock', name, undefined, `${server.prefix}:${key}`);
    server.locks.set(key, lock);
  }
  return lock;
}

function serverKey(client: PgClient): string {
  const p = client.connectionParameters;
  return JSON.stringify([p.host, p.port, p.database, p.user]);
}

function serverOf(conn: PgConn): Server {
  const key = serverKey(conn.client);
  let server = st.servers.get(key);
  if (!server) {
    server = {
      client: undefined,
      prefix: undefined,
      busy: false,
      failedAt: -Infinity,
      locks: new Map(),
    };
    st.servers.set(key, server);
  }
  return server;
}

/** Ends a wait the poller saw and no longer sees as granted, then released at once. */
function grantedAndGone(q: PgQuery): void {
  const w = q.wait;
  q.wait = undefined;
  q.waitKey = undefined;
  if (!w || w.ended) return;
  waitGranted(w);
  released(w.lock, w.n, w.lock.holds[w.lock.holds.length - 1]);
}

interface Snapshot {
  readonly conn: PgConn;
  readonly pid: number;
  readonly head: PgQuery | undefined;
  readonly lastDone: PgQuery | undefined;
  /** The flows that used the connection since the last poll (PgConn.flows), when known. */
  readonly flows?: readonly Flow[];
}

/**
 * Whether a lock first seen on the connection is surely `who`'s: every query that may have taken
 * it since the last poll was made by `who`'s flow. When several flows share the connection (a
 * pool's, a client the whole program uses), the attribution is a guess, and a finding through the
 * hold must not be exact: the flow is marked uncertain.
 */
function surelyOf(s: Snapshot, who: PgQuery): boolean {
  if (s.flows === undefined) return true;
  const id = resolved(who.flow).id;
  return (
    s.flows.length > 0 && s.flows.length < MAX_FLOWS && s.flows.every((f) => resolved(f).id === id)
  );
}

/**
 * The query a newly seen granted lock is attributed to: the one in flight when it is not waiting
 * (it may have taken the lock), else the last one to complete before the poll (a blocked query
 * most often waits after an earlier one took a lock), else the one in flight. Approximate: the
 * lock may have been taken by an earlier query still, or by a blocked statement that takes
 * several locks; the flow is right whenever one flow uses the connection at a time.
 */
function attribution(s: Snapshot, waiting: boolean): PgQuery | undefined {
  if (s.head && !waiting) return s.head;
  return s.lastDone ?? s.head;
}

/** Turns one answer into events: grants and releases first, then the wait. */
export function apply(
  server: Server,
  snapshots: readonly Snapshot[],
  rows: readonly LockRow[],
): void {
  for (const s of snapshots) {
    const { conn } = s;
    if (!st.live.has(conn)) continue;
    const mine = rows.filter((r) => r.pid === s.pid);
    const held = heldOf(conn);
    const waitingRow = mine.find((r) => !r.granted && lockKey(r) !== undefined);
    const head = s.head && !s.head.done ? s.head : undefined;
    const granted = new Set<string>();
    // Locks first seen together were taken in an order no answer shows: recorded as try-locks,
    // so that the lock-order analysis draws no edge between them from a guess (they are holds
    // like any other to the deadlock analysis).
    const fresh = mine.filter((r) => {
      const key = lockKey(r);
      return r.granted && key !== undefined && !held.has(`${key}|${modeOf(r.mode)}`);
    }).length;
    for (const row of mine) {
      const key = lockKey(row);
      if (!row.granted || key === undefined) continue;
      const mode = modeOf(row.mode);
      const hk = `${key}|${mode}`;
      granted.add(hk);
      if (held.has(hk)) continue;
      const lock = lockOf(server, key, row);
      if (head?.wait && head.waitKey === hk && !head.wait.ended) {
        waitGranted(head.wait);
        head.wait = undefined;
        held.set(hk, { lock, hold: lock.holds[lock.holds.length - 1], mode });
        continue;
      }
      const who = attribution(s, waitingRow !== undefined || head?.refused === true);
      // A lock no query of the program's can be attributed to is left out rather than guessed.
      if (!who) continue;
      if (!surelyOf(s, who)) markUncertain(resolved(who.flow));
      grantedAtCall(lock, who.flow, who.site, mode, fresh > 1);
      held.set(hk, { lock, hold: lock.holds[lock.holds.length - 1], mode });
    }
    for (const [hk, h] of held) {
      if (granted.has(hk)) continue;
      held.delete(hk);
      released(h.lock, h.mode, h.hold);
    }
    if (!head) continue;
    const wkey = waitingRow ? lockKey(waitingRow) : undefined;
    const whk = waitingRow && wkey ? `${wkey}|${modeOf(waitingRow.mode)}` : undefined;
    // A wait that gave way to another was granted first (a statement that waited again); one
    // that is no longer seen at all may as well have been refused (40P01, a timeout) as granted,
    // which only the query's end tells (`ended`).
    if (head.wait && whk !== undefined && head.waitKey !== whk) grantedAndGone(head);
    // A session never waits for itself: one that holds the lock in the other mode (shared, then
    // exclusive) waits only for the other sessions' holds, which the analysis, seeing the flow
    // hold it too, would take for a self-deadlock. Left out: a miss, never a false one.
    const own = wkey !== undefined && (held.has(`${wkey}|1`) || held.has(`${wkey}|2`));
    if (waitingRow && wkey && whk && !head.wait && !own) {
      const mode = modeOf(waitingRow.mode);
      head.wait = waitFor(
        lockOf(server, wkey, waitingRow),
        head.flow,
        head.site,
        mode,
        conn.bounded,
      );
      head.waitKey = whk;
    }
  }
  forgetUnused(server.locks);
}

async function poll(server: Server, conns: readonly PgConn[]): Promise<void> {
  server.busy = true;
  try {
    const client = await probeClient(server, conns[0]!.client);
    if (!client) return;
    const snapshots: Snapshot[] = [];
    for (const conn of conns) {
      const pid = conn.client.processID;
      if (typeof pid !== 'number') continue;
      snapshots.push({
        conn,
        pid,
        head: conn.queries[0],
        lastDone: conn.lastDone,
      });
      st.dirty.delete(conn);
    }
    if (snapshots.length === 0) return;
    const { rows } = await client.query(LOCKS_SQL, [snapshots.map((s) => s.pid)]);
    // The flows that may have taken a lock of the answer are read once it came (a query may have
    // run meanwhile), and only an answer starts the next count: after a failed poll, the flows
    // before it may still have taken a lock nobody has seen.
    const answered = snapshots.map((s) => {
      const flows = [...s.conn.flows];
      s.conn.flows = new Set(s.conn.queries.map((q) => q.flow));
      return { ...s, flows };
    });
    apply(server, answered, parseRows(rows));
  } catch {
    // The probe's connection failed mid-poll: the next poll connects again.
    server.client = undefined;
    server.failedAt = clock.now();
  } finally {
    server.busy = false;
  }
}

/** Whether the session of the program's client is over (ended, or its connection lost). */
function gone(client: PgClient): boolean {
  return client._ended === true || client._ending === true || client._queryable === false;
}

function tick(): void {
  st.timer = false;
  const now = clock.now();
  let due = false;
  let more = false;
  for (const conn of [...st.live]) {
    if (gone(conn.client) && conn.queries.length === 0) {
      closed(conn);
      continue;
    }
    const head = conn.queries[0];
    if (head) more = true;
    if ((head && now - head.since >= POLL_DELAY_MS) || st.dirty.has(conn)) due = true;
  }
  if (due) {
    const byServer = new Map<Server, PgConn[]>();
    for (const conn of st.live) {
      const server = serverOf(conn);
      let list = byServer.get(server);
      if (!list) byServer.set(server, (list = []));
      list.push(conn);
    }
    for (const [server, list] of byServer) if (!server.busy) void poll(server, list);
  }
  if (more) schedule(POLL_EVERY_MS);
}

function schedule(ms: number): void {
  if (st.timer) return;
  st.timer = true;
  clock.setTimeout(tick, ms).unref();
}

/** The session of `conn` is over: its locks went with it, and its query's wait ended. */
function closed(conn: PgConn): void {
  if (!st.live.delete(conn)) return;
  const held = st.held.get(conn);
  if (held) for (const h of held.values()) released(h.lock, h.mode, h.hold);
  st.held.delete(conn);
  for (const q of conn.queries) {
    if (q.wait) waitGaveUp(q.wait, 'cancel');
    q.wait = undefined;
  }
}

function ended(conn: PgConn, q: PgQuery, code: string | undefined): void {
  const w = q.wait;
  if (w && !w.ended) {
    if (code === undefined) {
      // The query returned: its wait was granted. A transaction id lock is let go at once (a
      // waiter for a row only waits for the holder's transaction to end); an advisory lock is
      // held until a poll no longer sees it.
      if (q.waitKey?.startsWith('xid:')) grantedAndGone(q);
      else {
        waitGranted(w);
        heldOf(conn).set(q.waitKey!, {
          lock: w.lock,
          hold: w.lock.holds[w.lock.holds.length - 1],
          mode: w.n,
        });
      }
    } else if (code === '40P01') waitFailed(w, ErrorCode.deadlockVictim);
    // lock_timeout (55P03) and query_canceled (57014: statement_timeout, a cancel) gave up.
    else if (code === '55P03') waitGaveUp(w, 'timeout');
    else if (code === '57014') waitGaveUp(w, 'cancel');
    else waitFailed(w, 0);
  }
  q.wait = undefined;
  // The query may have released locks (an unlock, a commit): the next poll says which.
  if ((st.held.get(conn)?.size ?? 0) > 0) {
    st.dirty.add(conn);
    schedule(POLL_EVERY_MS);
  }
}

/**
 * PostgreSQL refused `q`'s wait (40P01). A wait the polls saw ends as failed when `then` records
 * the query's end. One they never saw (PostgreSQL broke the cycle sooner than the first poll)
 * is inferred from the server: this process's holds are polled, and when exactly one lock is
 * held by the sessions that wait for this one, that is the lock it waited for, recorded as a
 * wait that may give up, so that a cycle through it is a warning, never an error, since it was
 * inferred. With several candidates none is chosen.
 */
function refused(conn: PgConn, q: PgQuery, then: () => void): void {
  q.refused = true;
  let left = 2;
  const done = (): void => {
    if (--left === 0) then();
  };
  clock.setTimeout(done, REFUSAL_HOLD_MS);
  // The program's error is never held longer than REFUSAL_LIMIT_MS: a server that stops
  // answering the poller (a connection that hangs) must not keep it from the program.
  clock.setTimeout(() => {
    if (left > 0) {
      left = 0;
      then();
    }
  }, REFUSAL_LIMIT_MS);
  infer(conn, q)
    .catch(() => undefined)
    .finally(done);
}

async function infer(conn: PgConn, q: PgQuery): Promise<void> {
  const server = serverOf(conn);
  const pid = conn.client.processID;
  const client = await probeClient(server, conn.client);
  if (!client || typeof pid !== 'number') return;
  // This process's holds as they are now: the refused session keeps its own.
  await poll(
    server,
    [...st.live].filter((c) => serverOf(c) === server),
  );
  if (q.wait || q.done) return;
  const { rows } = await client.query(CANDIDATES_SQL, [pid]);
  const found = new Map<string, LockRow>();
  for (const row of parseRows(rows)) {
    const key = lockKey(row);
    if (key !== undefined) found.set(key, row);
  }
  if (found.size !== 1 || q.wait || q.done) return;
  const [key, row] = [...found][0]!;
  // A row waiter shares the holder's transaction id; an advisory lock's mode is not known.
  const mode = row.locktype === 'transactionid' ? 1 : 2;
  q.wait = waitFor(lockOf(server, key, row), q.flow, q.site, mode, true);
  q.waitKey = `${key}|${mode}`;
}

/** Connects the poller to the adapter's events; called once pg's Client is patched. */
export function installPgPoller(): void {
  setPgEvents({
    started(conn) {
      st.live.add(conn);
      schedule(POLL_DELAY_MS);
    },
    ended,
    closed,
    refused,
  });
}
