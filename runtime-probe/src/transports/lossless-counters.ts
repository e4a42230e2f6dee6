/**
 * The counters lossless delivery shares between the main thread and the I/O thread, as indexes
 * into one Int32Array: characters posted and not yet written; events written; and a flag the I/O
 * thread sets when its connection failed (DEAD_LOST, or DEAD_HANDSHAKE_FAILED when its TLS
 * handshake with a remote collector failed), the first reason kept.
 */
export const Q_PENDING = 0;
export const Q_WRITTEN_EVENTS = 1;
export const Q_DEAD = 2;

export const DEAD_LOST = 1;
export const DEAD_HANDSHAKE_FAILED = 2;
