/**
 * What the PostgreSQL poller asks the server and how it reads the answers (pure): the `pg_locks`
 * rows of the program's backends, the locks a refused backend may have waited for, each row's
 * identity on its server, its mode as a read-write lock's, and its name in findings.
 */

/** The rows the poller reads: only lock types it can name without guessing. */
export const LOCKS_SQL =
  'SELECT pid, locktype, database::text AS db, classid::text AS classid, objid::text AS objid, ' +
  'objsubid::text AS objsubid, transactionid::text AS xid, mode, granted FROM pg_locks ' +
  "WHERE pid = ANY($1::int[]) AND locktype IN ('advisory', 'transactionid')";

/**
 * The locks a refused backend (`$1`) most likely waited for: those granted to the backends that
 * wait for it, directly or through others (pg_blocking_pids), which it does not hold itself. A
 * backend of the cycle PostgreSQL broke held the lock the refused one wanted, and still waits
 * for it, since a refused backend keeps its locks until its program reacts. A transaction's own
 * id is among them; a row waiter's share of another's id is not.
 */
export const CANDIDATES_SQL = `WITH RECURSIVE behind(pid) AS (
  SELECT w.pid FROM pg_locks w WHERE NOT w.granted AND $1::int = ANY(pg_blocking_pids(w.pid))
  UNION
  SELECT w.pid FROM pg_locks w JOIN behind b ON b.pid = ANY(pg_blocking_pids(w.pid))
  WHERE NOT w.granted
)
SELECT l.pid, l.locktype, l.database::text AS db, l.classid::text AS classid,
  l.objid::text AS objid, l.objsubid::text AS objsubid, l.transactionid::text AS xid, l.mode,
  l.granted
FROM pg_locks l
WHERE l.granted AND l.pid <> $1 AND l.pid IN (SELECT pid FROM behind)
  AND (l.locktype = 'advisory' OR (l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock'))
  AND NOT EXISTS (SELECT 1 FROM pg_locks m WHERE m.pid = $1 AND m.granted
    AND m.locktype = l.locktype
    AND m.database IS NOT DISTINCT FROM l.database AND m.classid IS NOT DISTINCT FROM l.classid
    AND m.objid IS NOT DISTINCT FROM l.objid AND m.objsubid IS NOT DISTINCT FROM l.objsubid
    AND m.transactionid IS NOT DISTINCT FROM l.transactionid)`;

export interface LockRow {
  pid: number;
  locktype: string;
  db: string | null;
  classid: string | null;
  objid: string | null;
  objsubid: string | null;
  xid: string | null;
  mode: string;
  granted: boolean;
}

/** The mode of a row as a read-write lock's: ShareLock shared (1), anything else exclusive (2). */
export function modeOf(mode: string): number {
  return mode === 'ShareLock' ? 1 : 2;
}

/** A lock's identity on its server, or undefined for a row the poller does not name. */
export function lockKey(row: LockRow): string | undefined {
  if (row.locktype === 'advisory') {
    return `advisory:${row.db}:${row.classid}:${row.objid}:${row.objsubid}`;
  }
  if (row.locktype === 'transactionid' && row.xid !== null) return `xid:${row.xid}`;
  return undefined;
}

/**
 * A lock's name in findings. An advisory lock taken with one bigint key shows it (its high and
 * low halves are `classid` and `objid`, objsubid 1); one taken with two int4 keys shows both
 * (objsubid 2).
 */
export function lockName(row: LockRow): string {
  if (row.locktype === 'transactionid') return `pg transaction ${row.xid}`;
  const hi = BigInt(row.classid ?? 0);
  const lo = BigInt(row.objid ?? 0);
  if (row.objsubid === '2') {
    return `pg advisory lock (${BigInt.asIntN(32, hi)}, ${BigInt.asIntN(32, lo)})`;
  }
  return `pg advisory lock ${BigInt.asIntN(64, (hi << 32n) | lo)}`;
}

/** The rows of an answer, typed. */
export function parseRows(rows: readonly unknown[]): LockRow[] {
  return rows.map((r) => {
    const o = r as Record<string, unknown>;
    const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
    return {
      pid: Number(o.pid),
      locktype: String(o.locktype),
      db: text(o.db),
      classid: text(o.classid),
      objid: text(o.objid),
      objsubid: text(o.objsubid),
      xid: text(o.xid),
      mode: String(o.mode),
      granted: o.granted === true,
    };
  });
}
