/**
 * The counters lossless delivery shares between the main thread and the I/O thread, as indexes
 * into one Int32Array: characters posted and not yet written; events written; and a flag the I/O
 * thread sets when its connection failed (DEAD_LOST, or DEAD_HANDSHAKE_FAILED when its TLS
 * handshake with a remote collector failed), the first reason kept.
 */
export const Q_PENDING = 0;
export const Q_WRITTEN_EVENTS = 1;
export const Q_DEAD = 2;
/**
 * Set to 1 by the I/O thread once a remote collector has closed the connection after the last
 * write: it closes only after reading up to the end, so everything written was read.
 */
export const Q_CLOSED = 3;
/** How many counters there are. */
export const Q_COUNT = 4;

export const DEAD_LOST = 1;
export const DEAD_HANDSHAKE_FAILED = 2;
