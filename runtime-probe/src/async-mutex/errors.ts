/**
 * The three errors of async-mutex. Programs compare them by identity (`e === E_TIMEOUT`), so each
 * is one object made once, with async-mutex's own message, which programs may also match.
 */

/** What `withTimeout` rejects with when the lock did not come in time. */
export const E_TIMEOUT = new Error('timeout while waiting for mutex to become available');

/** What `tryAcquire` rejects with when the lock is not free at once. */
export const E_ALREADY_LOCKED = new Error('mutex already locked');

/** What `cancel()` rejects every pending acquisition with, unless the lock was given another. */
export const E_CANCELED = new Error('request for lock canceled');
