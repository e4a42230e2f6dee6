/**
 * Which threads of the process have ended: what a shared lock's acquirer needs to take over a
 * lock whose holder's thread can no longer release it (mutex.ts), as the kernel does for a POSIX
 * robust mutex.
 *
 * The lock word names its holder's thread, so the one thing an acquirer must learn is whether
 * that thread has ended. This table tells it: one SharedArrayBuffer for the whole process, made
 * by the main thread and inherited by every worker through `worker_threads` environment data
 * (as the delivery ledgers are), so that every thread reads the same table whoever started it.
 * A thread is marked ended by itself as it exits (its `exit` event: it returned, threw or called
 * `process.exit()`), and marked gone by the lockscope Worker that started it once its `exit`
 * event has come (which also covers `terminate()`, where the thread runs no more code). Gone
 * says more than ended: Node ends a worker's own workers with it, and has joined them by then,
 * so every descendant of a gone thread has ended too; the table keeps each thread's parent for
 * that. Any acquirer that finds a lock held by an ended thread takes it over, and a waiter looks
 * again every LOOK_AGAIN_MS, so a lock is released whoever made its wrapper and whether or not
 * any wrapper of it is still alive anywhere.
 *
 * Why not a registry of every shared lock that the exiting thread's owner walks: a
 * SharedArrayBuffer cannot refer to another one, and environment data reaches a thread only as it
 * starts, so a lock made after a thread started could only reach it by message, which a thread
 * blocked in Atomics.wait never reads; the Worker-owning thread may itself be blocked on the very
 * lock, or be a worker that ended first. Holders checked lazily against this table need nothing
 * from the thread that made the lock, nor any event loop to run.
 */
import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';
import { rt, shared } from '../runtime.js';
import { isSharedTable, newSharedTable } from '../shared-table.js';

const KEY = 'lockscope.ended-threads.v1';
/** In each thread's environment data: its own id, which the workers it starts read as their parent's. */
const PARENT_KEY = 'lockscope.parent-thread.v1';
/**
 * Slots per region: thread T has slot T % SLOTS. Thread ids grow for the life of the process, so
 * a slot is reused by thread T + SLOTS, which then hides what it said of T: a lock still held by
 * T after that many more threads started is no longer taken over lazily (the eager releases
 * still apply). Every entry names its thread, so none ever makes a live thread look ended.
 */
export const SLOTS = 16_384;
// Regions of the table: T + 1 in ENDED when T has ended, in GONE when T and all its descendants
// have; the pair (T + 1, parent + 1) in PARENTS.
const ENDED = 0;
const GONE = SLOTS;
const PARENTS = 2 * SLOTS;
const LENGTH = 4 * SLOTS;
/** How far up a chain of parents to look (deeper chains are not expected). */
const MAX_DEPTH = 64;
/** How often a thread waiting for a shared lock looks again whether its holder's thread ended. */
export const LOOK_AGAIN_MS = 100;

const state = shared('thread-lifetimes', () => ({ table: undefined as Int32Array | undefined }));

/**
 * The process's table: inherited, or made here (on the main thread, before any worker starts; in
 * a worker whose parent had none, for the threads it starts). A worker records its parent, and
 * every thread tells the workers it will start that it is theirs.
 */
export function lifetimes(): Int32Array {
  if (state.table) return state.table;
  const inherited = getEnvironmentData(KEY);
  if (isSharedTable(inherited, LENGTH)) {
    state.table = inherited;
  } else {
    state.table = newSharedTable(LENGTH);
    setEnvironmentData(KEY, state.table);
  }
  // A worker started before its parent's probe ran inherits the id of an older ancestor, whose
  // end also ends it: as safe, if later.
  const parent = getEnvironmentData(PARENT_KEY);
  if (rt.threadId > 0 && typeof parent === 'number') recordParent(rt.threadId, parent);
  setEnvironmentData(PARENT_KEY, rt.threadId);
  return state.table;
}

/**
 * Records the parent of a thread. The thread's id is cleared first and written last, so that a
 * reader that sees it on both sides of the parent read the parent that goes with it.
 */
export function recordParent(threadId: number, parent: number): void {
  if (threadId <= 0 || parent < 0) return;
  const table = lifetimes();
  const at = PARENTS + 2 * (threadId % SLOTS);
  Atomics.store(table, at, 0);
  Atomics.store(table, at + 1, parent + 1);
  Atomics.store(table, at, threadId + 1);
}

function parentOf(table: Int32Array, threadId: number): number | undefined {
  const at = PARENTS + 2 * (threadId % SLOTS);
  if (Atomics.load(table, at) !== threadId + 1) return undefined;
  const parent = Atomics.load(table, at + 1) - 1;
  return Atomics.load(table, at) === threadId + 1 ? parent : undefined;
}

/** Marks a thread ended, by itself as it exits: a lock it holds may be taken over. */
export function markEnded(threadId: number): void {
  if (threadId <= 0) return;
  Atomics.store(lifetimes(), ENDED + (threadId % SLOTS), threadId + 1);
}

/** Marks a thread gone, once its `exit` event has come: it and every worker it started ended. */
export function markGone(threadId: number): void {
  if (threadId <= 0) return;
  markEnded(threadId);
  Atomics.store(lifetimes(), GONE + (threadId % SLOTS), threadId + 1);
}

/**
 * True when the thread is known to have ended: marked so, or a descendant of a thread that is
 * gone. The main thread never has: it is the process.
 */
export function hasEnded(threadId: number): boolean {
  if (threadId <= 0) return false;
  const table = lifetimes();
  if (Atomics.load(table, ENDED + (threadId % SLOTS)) === threadId + 1) return true;
  let t = threadId;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const parent = parentOf(table, t);
    if (parent === undefined || parent <= 0) return false;
    if (Atomics.load(table, GONE + (parent % SLOTS)) === parent + 1) return true;
    t = parent;
  }
  return false;
}
