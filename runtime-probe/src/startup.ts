/**
 * What loading the probe does, once per thread whichever entry loads it first (`lockscope`,
 * `lockscope/async-mutex`): an entry calls `startProbe()` rather than importing another entry for
 * its side effects, which a bundler may drop.
 */
import { applyEnvironment } from './config.js';
import { deferRunTracking, ensureRunTracking } from './runs.js';
import { rt } from './runtime.js';
import { lifetimes } from './shared/lifetimes.js';
import { failFastTable } from './shared/fail-fast.js';
import { sharePublicClassIdentities } from './public-classes.js';

export function startProbe(): void {
  applyEnvironment();
  // Every public class answers `instanceof` for instances of the other build too.
  sharePublicClassIdentities();
  // Identity is tracked from the moment the probe is loaded, so that every flow that later uses
  // it was seen to start (runs.ts). Loaded by `lockscope/register` with nothing to record, it
  // waits for the first operation that needs it: the adapters record nothing then, and the
  // promise hooks (and patching `Promise.prototype.then`, which turns off V8's fast path for
  // every await of the process, even once put back) would cost the program's every promise.
  if (loadedByRegister() && !rt.recording && !rt.config.failFast) deferRunTracking();
  else ensureRunTracking();
  // Made before the program can start a worker, so that every thread of the process shares it:
  // how a shared lock held by a thread that ended is taken over (shared/lifetimes.ts).
  lifetimes();
  // And the table of blocked threads that fail-fast reads for shared locks (shared/fail-fast.ts).
  failFastTable();
}

/** Whether `lockscope/register` loaded the probe (register-mark.ts). */
function loadedByRegister(): boolean {
  return (globalThis as Record<symbol, unknown>)[Symbol.for('lockscope.register')] === true;
}
