/**
 * What a thread's end must reach: which threads of the process have ended, and the shared locks
 * this thread knows of.
 *
 * A shared lock held by a thread that ends must be released on its behalf, as the kernel does for
 * a POSIX robust mutex. The lock word names its holder's thread (mutex.ts), so the one thing a
 * thread needs to take over such a lock is to know that its holder's thread has ended. That is
 * the table of ended threads below: one SharedArrayBuffer for the whole process, made by the main
 * thread and inherited by every worker through `worker_threads` environment data (as the
 * delivery ledgers are), so that every thread reads the same table whoever started it. A thread
 * is marked ended by itself as it exits (its `exit` event: it returned, threw or called
 * `process.exit()`), and by the lockscope Worker that started it once it is gone (which also
 * covers `terminate()`, where the thread runs no more code). Any acquirer that finds a lock held
 * by an ended thread takes it over as abandoned, and a waiter looks again every
 * LOOK_AGAIN_MS, so a lock is released whoever made its wrapper and whether or not any wrapper of
 * it is still alive anywhere.
 *
 * Why not a registry of every shared lock that the exiting thread's owner walks: a
 * SharedArrayBuffer cannot refer to another one, and environment data reaches a thread only as it
 * starts, so a lock made after a thread started could only reach it by message, which a thread
 * blocked in Atomics.wait never reads; the Worker-owning thread may itself be blocked on the very
 * lock, or be a worker that ended first. Holders checked lazily against the table need nothing
 * from the thread that made the lock, nor any event loop to run.
 *
 * The known-locks list (weak, per thread) is kept for what can be done at once: the ending
 * thread, and the Worker that started it, release the locks they know of right away, so their
 * waiters are woken without waiting to look again; the hold-time watchdog reads it too.
 */
import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';
import { rt, shared } from '../runtime.js';
import type { SharedMutex } from './mutex.js';

const KEY = 'lockscope.ended-threads.v1';
/**
 * Slots of the table: thread T is ended when slot T % SLOTS holds T + 1. Thread ids grow for the
 * life of the process, so a slot is reused by thread T + SLOTS, which then hides T's mark: a lock
 * still held by T, after that many more threads have ended, is no longer taken over lazily (the
 * eager releases still apply). A mark never makes a live thread look ended.
 */
const SLOTS = 65_536;
/** How often a thread waiting for a shared lock looks again whether its holder's thread ended. */
export const LOOK_AGAIN_MS = 100;

const state = shared('shared-registry', () => ({
  ended: undefined as Int32Array | undefined,
  locks: new Set<WeakRef<SharedMutex>>(),
  sweepAt: 1024,
  watchingEnd: false,
}));

function isTable(value: unknown): value is Int32Array {
  return (
    value instanceof Int32Array &&
    value.buffer instanceof SharedArrayBuffer &&
    value.length === SLOTS
  );
}

/**
 * The process's table of ended threads: inherited, or made here (on the main thread, before any
 * worker starts; in a worker whose parent had none, for the threads it starts).
 */
export function endedThreads(): Int32Array {
  if (state.ended) return state.ended;
  const inherited = getEnvironmentData(KEY);
  if (isTable(inherited)) {
    state.ended = inherited;
  } else {
    state.ended = new Int32Array(new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT));
    setEnvironmentData(KEY, state.ended);
  }
  return state.ended;
}

/** Marks a thread as ended: from now on, a lock it holds may be taken over as abandoned. */
export function markEnded(threadId: number): void {
  if (threadId <= 0) return;
  Atomics.store(endedThreads(), threadId % SLOTS, threadId + 1);
}

/** True when the thread is known to have ended (the main thread never is: it is the process). */
export function hasEnded(threadId: number): boolean {
  return threadId > 0 && Atomics.load(endedThreads(), threadId % SLOTS) === threadId + 1;
}

/**
 * Remembers a shared lock made on this thread (new, or from a handle); dead entries are swept as
 * the set doubles, so it stays bounded. The first one also has this thread release what it still
 * holds as it exits.
 */
export function rememberSharedLock(lock: SharedMutex): void {
  if (!state.watchingEnd) watchOwnEnd();
  state.locks.add(new WeakRef(lock));
  if (state.locks.size < state.sweepAt) return;
  for (const ref of state.locks) if (!ref.deref()) state.locks.delete(ref);
  state.sweepAt = Math.max(1024, state.locks.size * 2);
}

/** The shared locks of this thread still alive. */
export function* knownLocks(): IterableIterator<SharedMutex> {
  for (const ref of state.locks) {
    const lock = ref.deref();
    if (lock) yield lock;
    else state.locks.delete(ref);
  }
}

/** Releases, on behalf of a thread that ended, every known shared lock it still held. */
export function releaseAbandonedBy(threadId: number): number {
  let released = 0;
  for (const lock of knownLocks()) if (lock.releaseAbandoned(threadId)) released++;
  return released;
}

/**
 * A worker that ends (returns, throws, or calls `process.exit()`) runs its `exit` listeners: this
 * one marks the thread ended and releases the shared locks it knows it holds, so that a thread
 * blocked on one of them wakes even if its parent, blocked too, never sees the exit. It goes
 * first, so that its `abandoned` events are recorded before the recorder's own exit listener
 * sends the thread's last batch.
 */
function watchOwnEnd(): void {
  state.watchingEnd = true;
  if (rt.threadId === 0) return;
  endedThreads();
  process.prependListener('exit', () => {
    markEnded(rt.threadId);
    releaseAbandonedBy(rt.threadId);
  });
}
