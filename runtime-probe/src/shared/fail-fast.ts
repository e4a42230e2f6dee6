/**
 * Fail-fast across threads: a `SharedMutex.acquireSync()` that would close a cycle of threads
 * each blocked on a lock the next one holds rejects with a DeadlockError instead of blocking
 * (with `failFast` on, as for the other locks, see primitives/fail-fast.ts).
 *
 * Only synchronous waits without a timeout take part: a thread blocked in Atomics.wait runs
 * nothing else, so none of its locks can be released, and a wait without a timeout never gives
 * up; a cycle of such waits is a deadlock for certain. An asynchronous wait leaves its thread's
 * other flows running, and a lock word names a thread, not a flow, so such a wait proves nothing.
 *
 * One table in shared memory for the whole process (inherited by every worker through
 * environment data, as the table of thread lifetimes is): each thread publishes the lock it is
 * blocked on, and each holder the locks it holds, each slot under a sequence lock (odd while it
 * changes). A holder publishes a hold after taking the lock and withdraws it before releasing, so
 * a slot that names a thread is never more than it holds. The acquirer follows holder, wait,
 * holder, ... from the lock it asks for; if that comes back to itself, it reads every slot's
 * sequence again, and only if none changed (the values all held at one instant) is the cycle
 * real. Two threads that close one cycle at the same instant may both be refused.
 */
import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';
import { shared } from '../runtime.js';
import { isSharedTable, newSharedTable } from '../shared-table.js';
import { hasEnded } from './lifetimes.js';

const KEY = 'lockscope.fail-fast-waits.v1';
/** Threads: thread T has slot T % THREAD_SLOTS, which names T (a later thread may reuse it). */
const THREAD_SLOTS = 4096;
/** Locks get ids from 1; a lock whose id exceeds this takes no part. */
export const LOCK_SLOTS = 16_384;
// Layout: the last lock id given; per thread slot (its tag, the lock id it waits on, sequence);
// per lock slot (its holder's tag, sequence). Tags are thread id + 1, as in a lock word.
const NEXT_ID = 0;
const THREADS = 1;
const LOCKS = THREADS + 3 * THREAD_SLOTS;
const LENGTH = LOCKS + 2 * LOCK_SLOTS;
/** The longest cycle followed. */
const MAX_STEPS = 64;

const state = shared('shared-fail-fast', () => ({ table: undefined as Int32Array | undefined }));

/** The process's table: inherited, or made here (the main thread makes it before any worker). */
export function failFastTable(): Int32Array {
  if (state.table) return state.table;
  const inherited = getEnvironmentData(KEY);
  if (isSharedTable(inherited, LENGTH)) state.table = inherited;
  else {
    state.table = newSharedTable(LENGTH);
    setEnvironmentData(KEY, state.table);
  }
  return state.table;
}

/** The names of the locks this thread knows, by id, for its DeadlockErrors. */
const names = shared('shared-fail-fast-names', () => new Map<number, string>());

/** Remembers the name of lock `id` on this thread; returns the id. */
export function nameLock(id: number, name: string): number {
  if (id && !names.has(id)) names.set(id, name);
  return id;
}

/** The name of lock `id`, if this thread knows the lock. */
export function lockName(id: number): string | undefined {
  return names.get(id);
}

/** A new lock id, from 1; 0 once they run out. */
export function newLockId(): number {
  const id = Atomics.add(failFastTable(), NEXT_ID, 1) + 1;
  return id <= LOCK_SLOTS ? id : 0;
}

/** Writes a slot's values under its sequence lock (one writer at a time per slot). */
function write(table: Int32Array, seq: number, values: [number, number][]): void {
  Atomics.add(table, seq, 1);
  for (const [at, v] of values) Atomics.store(table, at, v);
  Atomics.add(table, seq, 1);
}

/** Publishes that thread `tag` holds lock `id` (or, with tag 0, that nobody does). */
export function publishHolder(id: number, tag: number): void {
  if (id <= 0 || id > LOCK_SLOTS) return;
  const at = LOCKS + 2 * (id - 1);
  write(failFastTable(), at + 1, [[at, tag]]);
}

/** Publishes that thread `tag` is blocked on lock `id` (0: on none). */
export function publishWait(tag: number, id: number): void {
  const at = THREADS + 3 * ((tag - 1) % THREAD_SLOTS);
  write(failFastTable(), at + 2, [
    [at, tag],
    [at + 1, id],
  ]);
}

interface Read {
  seqAt: number;
  seq: number;
}

/** Reads a slot's value consistently, or undefined while it keeps changing. */
function read(
  table: Int32Array,
  valueAt: number,
  seqAt: number,
  reads: Read[],
): number | undefined {
  for (let tries = 0; tries < 4; tries++) {
    const seq = Atomics.load(table, seqAt);
    if (seq & 1) continue;
    const value = Atomics.load(table, valueAt);
    if (Atomics.load(table, seqAt) !== seq) continue;
    reads.push({ seqAt, seq });
    return value;
  }
  return undefined;
}

/** One step of a cycle: thread `tag` waits for lock `lock`, which thread `holder` holds. */
export interface SharedStep {
  tag: number;
  lock: number;
  holder: number;
}

/**
 * The cycle that thread `me` (a tag) closes by blocking on lock `id`, from its own wait around,
 * or undefined when the table does not show one for certain.
 */
export function sharedCycle(me: number, id: number): SharedStep[] | undefined {
  if (id <= 0 || id > LOCK_SLOTS) return undefined;
  const table = failFastTable();
  const reads: Read[] = [];
  const steps: SharedStep[] = [];
  let waiter = me;
  let lock = id;
  for (let n = 0; n < MAX_STEPS; n++) {
    const at = LOCKS + 2 * (lock - 1);
    const holder = read(table, at, at + 1, reads);
    if (!holder || hasEnded(holder - 1)) return undefined;
    steps.push({ tag: waiter, lock, holder });
    if (holder === me) return unchanged(table, reads) ? steps : undefined;
    const slot = THREADS + 3 * ((holder - 1) % THREAD_SLOTS);
    // The slot names its thread and the lock it waits on under one sequence.
    const seqBefore = reads.length;
    const named = read(table, slot, slot + 2, reads);
    const next = read(table, slot + 1, slot + 2, reads);
    if (named !== holder || !next || next > LOCK_SLOTS) return undefined;
    if (reads[seqBefore]!.seq !== reads[seqBefore + 1]!.seq) return undefined;
    if (steps.some((s) => s.lock === next)) return undefined;
    waiter = holder;
    lock = next;
  }
  return undefined;
}

/** Whether no slot read has changed since: the values read all held at one instant. */
function unchanged(table: Int32Array, reads: Read[]): boolean {
  return reads.every((r) => Atomics.load(table, r.seqAt) === r.seq);
}
