// The worker thread of cross-thread-deadlock.ts: takes `first`, waits until the other worker
// holds its own first lock, then takes `second`, which that worker holds: blocked for good.
//
// Plain JavaScript on purpose: tsx does not reach worker threads (privatenumber/tsx#354), so a
// .ts worker script fails with ERR_UNKNOWN_FILE_EXTENSION under `node --import tsx`.
import { workerData } from 'node:worker_threads';
import { SharedBarrier, SharedMutex } from 'lockscope';

const first = SharedMutex.from(workerData.first);
const second = SharedMutex.from(workerData.second);
const bothHoldOne = SharedBarrier.from(workerData.bothHoldOne);

const a = first.acquireSync();
try {
  bothHoldOne.waitSync(); // now each worker holds its first lock
  const b = second.acquireSync(); // blocks forever: the other worker holds it
  try {
    console.log(`worker took ${first.name} and ${second.name}`);
  } finally {
    b.release();
  }
} finally {
  a.release();
}
