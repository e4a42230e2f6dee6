/**
 * A measurement thread for bench/shared-mutex.ts: acquires and releases one lock `n` times, with
 * SharedMutex's blocking API or with a minimal hand-written Atomics mutex, after every thread
 * has been started (a start flag in shared memory), and posts the elapsed nanoseconds.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SharedMutex } from '../runtime-probe/src/index.js';

interface Job {
  kind: 'lockscope' | 'minimal';
  handle: unknown;
  minimal: SharedArrayBuffer;
  start: SharedArrayBuffer;
  counter: SharedArrayBuffer;
  n: number;
}

const job = workerData as Job;
const start = new Int32Array(job.start);
const counter = new Int32Array(job.counter);

/** Drepper's futex mutex, the smallest correct one: the baseline. */
const word = new Int32Array(job.minimal);
function lock(): void {
  let c = Atomics.compareExchange(word, 0, 0, 1);
  if (c === 0) return;
  if (c !== 2) c = Atomics.exchange(word, 0, 2);
  while (c !== 0) {
    Atomics.wait(word, 0, 2);
    c = Atomics.exchange(word, 0, 2);
  }
}
function unlock(): void {
  if (Atomics.sub(word, 0, 1) !== 1) {
    Atomics.store(word, 0, 0);
    Atomics.notify(word, 0, 1);
  }
}

const mutex = job.kind === 'lockscope' ? SharedMutex.from(job.handle) : undefined;
// Warm up before the start flag, alone on the lock: V8 tiers the loop up part-way through a
// timed run otherwise, and whether it inlines one call or another differed from one worker to
// the next, which made the uncontended figure jump between two values.
for (let i = 0; i < 200_000; i++) {
  if (mutex) mutex.acquireSync().release();
  else {
    lock();
    unlock();
  }
}
Atomics.add(start, 1, 1);
while (Atomics.load(start, 0) === 0) Atomics.wait(start, 0, 0, 1);
const t0 = process.hrtime.bigint();
if (mutex) {
  for (let i = 0; i < job.n; i++) {
    const guard = mutex.acquireSync();
    counter[0]!++;
    guard.release();
  }
} else {
  for (let i = 0; i < job.n; i++) {
    lock();
    counter[0]!++;
    unlock();
  }
}
parentPort!.postMessage(Number(process.hrtime.bigint() - t0));
