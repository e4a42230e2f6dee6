/**
 * What loading the probe does, once per thread whichever entry loads it first (`lockscope`,
 * `lockscope/async-mutex`): an entry calls `startProbe()` rather than importing another entry for
 * its side effects, which a bundler may drop.
 */
import { applyEnvironment } from './config.js';
import { ensureRunTracking } from './runs.js';
import { lifetimes } from './shared/lifetimes.js';
import { failFastTable } from './shared/fail-fast.js';
import { sharePublicClassIdentities } from './public-classes.js';

export function startProbe(): void {
  applyEnvironment();
  // Every public class answers `instanceof` for instances of the other build too.
  sharePublicClassIdentities();
  // Identity is tracked from the moment the probe is loaded, so that every flow that later uses
  // it was seen to start (runs.ts).
  ensureRunTracking();
  // Made before the program can start a worker, so that every thread of the process shares it:
  // how a shared lock held by a thread that ended is taken over (shared/lifetimes.ts).
  lifetimes();
  // And the table of blocked threads that fail-fast reads for shared locks (shared/fail-fast.ts).
  failFastTable();
}
