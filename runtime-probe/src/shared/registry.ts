/**
 * The shared locks this thread knows of (made here, or made again here from a handle), weakly
 * held. Whoever takes over a lock whose holder's thread ended needs none of them (lifetimes.ts);
 * they are for what can be done at once: the ending thread, and the Worker that started it,
 * release the locks they know of right away, so their waiters are woken without waiting to look
 * again. The hold-time watchdog reads them too.
 */
import { rt, shared } from '../runtime.js';
import { lifetimes, markEnded } from './lifetimes.js';
import type { SharedMutex } from './mutex.js';

const state = shared('shared-registry', () => ({
  locks: new Set<WeakRef<SharedMutex>>(),
  sweepAt: 1024,
  watchingEnd: false,
}));

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
  lifetimes();
  process.prependListener('exit', () => {
    markEnded(rt.threadId);
    releaseAbandonedBy(rt.threadId);
  });
}
