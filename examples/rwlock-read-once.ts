/**
 * The fix of rwlock-read-reentry.ts: the report takes the read lock once and passes down what it
 * needs, so a writer that starts waiting meanwhile only waits for that one read to end.
 *
 * What it teaches: with a writer-preferring read-write lock, never take the read lock again while
 * holding it; read once, under one guard.
 */
import { RWLock, sleep, spawn } from 'lockscope';

const cache = new RWLock({ name: 'cache' });
const entries = new Map<string, number>([['a', 1]]);

function lookup(snapshot: ReadonlyMap<string, number>, key: string): number | undefined {
  return snapshot.get(key); // no lock: the caller holds the read lock
}

const report = spawn('report', async () => {
  using _guard = await cache.read();
  await sleep(5); // the writer starts waiting meanwhile
  return lookup(entries, 'a');
});
const refresh = spawn('refresh', async () => {
  await sleep(1);
  using _guard = await cache.write();
  entries.set('a', 2);
});
await Promise.all([report.join(), refresh.join()]);
console.log('done');
