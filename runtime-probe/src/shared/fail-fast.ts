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
 * changes). A thread slot has one writer; a lock slot has its holder, and whoever releases the
 * lock for a holder whose thread ended, which can only withdraw a hold (a miss, never a cycle). A holder publishes a hold after taking the lock and withdraws it
 * before releasing, so a slot that names a thread is never more than it holds. The acquirer
 * follows holder, wait, holder, ... from the lock it asks for; if that comes back to itself, it
 * reads every slot's sequence again, and only if none changed (the values all held at one
 * instant) is the cycle real. A thread that has ended, or is being terminated, is no link. Two
 * threads that close one cycle at the same instant may both be refused.
 */
import { randomInt } from 'node:crypto';
import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';
import { shared } from '../runtime.js';
import { isSharedTable, newSharedTable } from '../shared-table.js';
import { hasEnded } from './lifetimes.js';

const KEY = 'lockscope.fail-fast-waits.v2';
/**
 * Threads: thread T has slot T % THREAD_SLOTS. The first live thread to publish in a slot claims
 * it (a later one with the same slot takes no part while it lives), so each slot has one writer.
 */
const THREAD_SLOTS = 4096;
/** Locks get ids from 1; a lock whose id would exceed this takes no part. */
const LOCK_SLOTS = 16_384;
// Layout: the last lock id given; this table's nonce, which a lock records with its id, so that
// a lock never takes part in two tables (as in a process whose workers each made their own);
// per thread slot: the tag that owns it, the lock id it waits on, its sequence, and its tag
// again once it is being terminated; per lock slot: its holder's tag and its sequence. Tags are
// thread id + 1, as in a lock word.
const NEXT_ID = 0;
const NONCE = 1;
const THREADS = 2;
const THREAD_WORDS = 4;
const LOCKS = THREADS + THREAD_WORDS * THREAD_SLOTS;
const LENGTH = LOCKS + 2 * LOCK_SLOTS;
/** The longest cycle followed. */
const MAX_STEPS = 64;

const state = shared('shared-fail-fast', () => ({
  table: undefined as Int32Array | undefined,
  /** The names of the locks this thread knows, by id, for its DeadlockErrors. */
  names: new Map<number, string>(),
}));

/** The process's table: inherited, or made here (the main thread makes it before any worker). */
export function failFastTable(): Int32Array {
  if (state.table) return state.table;
  const inherited = getEnvironmentData(KEY);
  if (isSharedTable(inherited, LENGTH)) state.table = inherited;
  else {
    state.table = newSharedTable(LENGTH);
    state.table[NONCE] = randomInt(1, 2 ** 31 - 1);
    setEnvironmentData(KEY, state.table);
  }
  return state.table;
}

/**
 * The id of the lock whose shared words are `words` (the id in word `idAt`, the nonce of the
 * table that gave it in `tableAt`), given now if it has none; 0 when the lock takes no part
 * (another table gave its id, or the ids ran out).
 */
export function lockIdOf(words: Int32Array, idAt: number, tableAt: number, name: string): number {
  const table = failFastTable();
  const nonce = table[NONCE]!;
  if (Atomics.load(words, tableAt) !== nonce) {
    Atomics.compareExchange(words, tableAt, 0, nonce);
    if (Atomics.load(words, tableAt) !== nonce) return 0;
  }
  let id = Atomics.load(words, idAt);
  if (id === 0) {
    const next = Atomics.add(table, NEXT_ID, 1) + 1;
    // -1 marks a lock that found the ids used up, so that it never asks again.
    const mine = next <= LOCK_SLOTS ? next : -1;
    id = Atomics.compareExchange(words, idAt, 0, mine) || mine;
  }
  if (id <= 0) return 0;
  if (!state.names.has(id)) state.names.set(id, name);
  return id;
}

/** The name of lock `id`, if this thread knows the lock. */
export function lockName(id: number): string | undefined {
  return state.names.get(id);
}

/** Writes a slot's value under its sequence lock (its one writer). */
function write(table: Int32Array, valueAt: number, seqAt: number, value: number): void {
  Atomics.add(table, seqAt, 1);
  Atomics.store(table, valueAt, value);
  Atomics.add(table, seqAt, 1);
}

/** Publishes that thread `tag` holds lock `id` (or, with tag 0, that nobody does). */
export function publishHolder(id: number, tag: number): void {
  if (id <= 0 || id > LOCK_SLOTS) return;
  const at = LOCKS + 2 * (id - 1);
  write(failFastTable(), at, at + 1, tag);
}

function threadSlot(tag: number): number {
  return THREADS + THREAD_WORDS * ((tag - 1) % THREAD_SLOTS);
}

/**
 * Publishes that thread `tag` is blocked on lock `id` (0: on none). Returns false when it
 * cannot: another live thread owns its slot.
 */
export function publishWait(tag: number, id: number): boolean {
  const table = failFastTable();
  const at = threadSlot(tag);
  const owner = Atomics.load(table, at);
  if (owner === tag) {
    write(table, at + 1, at + 2, id);
    return true;
  }
  if (id === 0 || (owner > 0 && !hasEnded(owner - 1))) return false;
  // Claimed under a mark (-tag) that names nobody, so that no reader takes the previous owner's
  // last wait for this thread's before this thread has written its own.
  if (Atomics.compareExchange(table, at, owner, -tag) !== owner) return false;
  write(table, at + 1, at + 2, id);
  Atomics.store(table, at, tag);
  return true;
}

/**
 * Marks thread `threadId` as being terminated: it runs no more code, so it is no link in a
 * cycle even before its exit is known (lifetimes.ts). Written by whoever terminates it.
 */
export function markTerminating(threadId: number): void {
  if (threadId <= 0) return;
  Atomics.store(failFastTable(), threadSlot(threadId + 1) + 3, threadId + 1);
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
    const slot = threadSlot(holder);
    // The slot must be the holder's own, and the holder not on its way out.
    if (Atomics.load(table, slot) !== holder || Atomics.load(table, slot + 3) === holder) {
      return undefined;
    }
    const next = read(table, slot + 1, slot + 2, reads);
    if (!next || next > LOCK_SLOTS || steps.some((s) => s.lock === next)) return undefined;
    waiter = holder;
    lock = next;
  }
  return undefined;
}

/** Whether no slot read has changed since: the values read all held at one instant. */
function unchanged(table: Int32Array, reads: Read[]): boolean {
  return reads.every((r) => Atomics.load(table, r.seqAt) === r.seq);
}
