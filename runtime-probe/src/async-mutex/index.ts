/**
 * `lockscope/async-mutex`: async-mutex 0.5's API and semantics on lockscope's instrumented core.
 * A program switches by changing only its import specifier, and every wait of its locks is then
 * observed. Importing it applies the environment as importing `lockscope` does, so that
 * LOCKSCOPE_TRACE and `lockscope run` see its locks.
 */
import { startProbe } from '../startup.js';

export { Mutex } from './mutex.js';
export { Semaphore } from './semaphore.js';
export { withTimeout, tryAcquire } from './with-timeout.js';
export { E_TIMEOUT, E_ALREADY_LOCKED, E_CANCELED } from './errors.js';
export type { MutexInterface, SemaphoreInterface } from './interfaces.js';

startProbe();
