/**
 * The counters lossless delivery shares between the main thread and the I/O thread, as indexes
 * into one Int32Array: characters posted and not yet written; events written; and a flag the I/O
 * thread sets to 1 when its connection failed.
 */
export const Q_PENDING = 0;
export const Q_WRITTEN_EVENTS = 1;
export const Q_DEAD = 2;
