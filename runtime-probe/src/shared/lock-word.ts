/**
 * The layout of a SharedMutex's state in its SharedArrayBuffer, and the lock word's encoding: what
 * every thread that opens the lock must agree on.
 */

// Layout of the shared state, in 32-bit words.
// The lock word: the holder's thread tag in the high 30 bits, FREE .. ABANDONED in the low 2. The
// holder is in the word itself so that whoever finds its thread ended can take the lock over with
// one compare-and-swap that cannot take it from a later holder (see lifetimes.ts); the tag of each
// thread is computed once, so the fast path stays a single compare-and-swap. What only reports
// need (task, site, hold count) is on another cache line and written only while recording, so
// that an unobserved lock moves no extra line between cores when it changes hands.
export const STATE = 0;
export const OWNER_TASK = 16; // the holder's task id, low 32 bits (the high bits are the thread)
export const OWNER_SITE = 17; // the holder's acquisition site, low 32 bits
export const LOCK_ID = 19; // the lock's id in the fail-fast table (shared/fail-fast.ts), 0 until needed
export const LOCK_TABLE = 20; // the nonce of the fail-fast table that gave that id
export const HOLDS = 18; // how many times it has been taken while recording: a watchdog that sees the
// same count twice T apart knows the current hold has lasted at least T, without a clock read.
export const WORDS = 32;

// States in the low bits of STATE: Drepper's futex mutex ("Futexes are tricky", mutex 2), plus one
// for a lock whose holder's thread ended while holding it. FREE and ABANDONED carry no tag.
export const FREE = 0;
export const LOCKED = 1;
export const CONTENDED = 2; // locked, and perhaps with waiters
export const ABANDONED = 3; // free, but the last holder died holding it
export const BITS = 3;
/** The tag of thread id `t` is t + 1; a thread whose tag would not fit gets this one, never judged ended. */
export const NO_TAG = 2 ** 30 - 1;

export function tagOf(threadId: number): number {
  return Math.min(threadId + 1, NO_TAG);
}

/** The state word of a lock held by the thread tagged `tag` (an int32, negative for large tags). */
export function heldBy(tag: number, bits: typeof LOCKED | typeof CONTENDED): number {
  return (tag << 2) | bits | 0;
}

/** The thread id of the holder named by the lock word `c`, or undefined when it is free. */
export function holderThread(c: number): number | undefined {
  const bits = c & BITS;
  return bits === LOCKED || bits === CONTENDED ? (c >>> 2) - 1 : undefined;
}
