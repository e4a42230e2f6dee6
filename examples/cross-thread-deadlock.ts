/**
 * A real deadlock between two worker threads, over two SharedMutexes.
 *
 * Two worker threads share two locks in shared memory, `inventory` and `orders`. Worker 1 takes
 * `inventory` then `orders`; worker 2 takes `orders` then `inventory` (the worker's code is in
 * cross-thread-deadlock-worker.mjs). A SharedBarrier makes sure both hold their first lock before
 * either reaches for its second, so the deadlock happens on every run: each thread blocks in
 * acquireSync() (Atomics.wait), for good, on the lock the other holds. Unlike the async examples,
 * these threads are really stuck, and the process would never exit.
 *
 * Lockscope sees both threads blocked, each holding what the other waits for: a deadlock of
 * `worker 1` and `worker 2` on `inventory` and `orders`. Since the threads never come back, main
 * gives up after GIVE_UP_MS: it prints "deadlocked: terminating the workers" and ends them.
 *
 * The worker script is plain JavaScript: tsx's loader does not reach worker threads
 * (privatenumber/tsx#354), so this file cannot simply start itself again as the worker.
 *
 * What it teaches: lock ordering matters across threads exactly as across async tasks (compare
 * dining-philosophers.ts); the fix is the same, one global order.
 */
import { SharedBarrier, SharedMutex, Worker } from 'lockscope';

const GIVE_UP_MS = 3000;
const script = new URL('./cross-thread-deadlock-worker.mjs', import.meta.url);

const inventory = new SharedMutex({ name: 'inventory' });
const orders = new SharedMutex({ name: 'orders' });
const bothHoldOne = new SharedBarrier(2, { name: 'both hold one lock' });

function start(name: string, first: SharedMutex, second: SharedMutex): Worker {
  const workerData = {
    first: first.handle,
    second: second.handle,
    bothHoldOne: bothHoldOne.handle,
  };
  return new Worker(script, { name, workerData });
}

const workers = [start('worker 1', inventory, orders), start('worker 2', orders, inventory)];
setTimeout(() => {
  console.log('deadlocked: terminating the workers');
  for (const w of workers) void w.terminate();
}, GIVE_UP_MS).unref();

const codes = await Promise.all(workers.map((w) => w.join()));
console.log(`workers ended with exit codes ${codes.join(', ')}`);
