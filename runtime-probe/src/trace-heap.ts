/**
 * The heap the trace commands run with. Reading a long trace keeps each resource's state until
 * the program dropped the resource, so most garbage is long-lived: with V8's defaults the heap
 * grows to several times what is live before a full collection (a trace of a million short-lived
 * mutexes peaked at 540 MB on Node 20 and 590 MB on Node 24 for 145 MB live). A small young
 * generation and slow old-generation growth keep the peak near 270 MB, for a little more time
 * spent collecting. Node takes these only on its command line, so `report` and `events` run
 * themselves again with them.
 */
import { spawnSync } from 'node:child_process';

export const TRACE_HEAP_FLAGS = ['--max-semi-space-size=8', '--heap-growing-percent=10'];

/**
 * Runs this command again in a Node started with TRACE_HEAP_FLAGS, unless this one was, and
 * returns its exit status; undefined means go on here (this process has the flags, or a new one
 * could not be started, in which case the default heap only costs memory).
 */
export function rerunWithTraceHeap(): number | undefined {
  if (TRACE_HEAP_FLAGS.every((f) => process.execArgv.includes(f))) return undefined;
  const r = spawnSync(
    process.execPath,
    [...process.execArgv, ...TRACE_HEAP_FLAGS, ...process.argv.slice(1)],
    { stdio: 'inherit' },
  );
  if (r.error) return undefined;
  // A command killed by a signal ends this one the same way, as a shell would expect.
  if (r.signal) process.kill(process.pid, r.signal);
  return r.status ?? 1;
}
