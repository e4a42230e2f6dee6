/**
 * A cache refresh reads under a read-write lock, and calls a helper that takes the read lock
 * again, while a writer has started to wait: a read-write-read (RWR) deadlock.
 *
 * `report` holds a read lock on `cache` and awaits a lookup helper that takes the read lock again.
 * Meanwhile `refresh` has asked for the write lock. The lock prefers writers (the default), so
 * the helper's read waits behind the waiting writer, and the writer waits for the outer read to
 * be released: each waits for the other, and the program exits silently (code 13).
 *
 * What it teaches: with a writer-preferring lock, re-entering a read lock is not safe. Take the
 * read lock once and pass what you read down, or use `policy: 'fair'` knowingly. Lockscope draws
 * the wait from the reader to the writer queued ahead of it.
 */
import { RWLock, sleep, spawn } from 'lockscope';

const cache = new RWLock({ name: 'cache' });
const entries = new Map<string, number>([['a', 1]]);

async function lookup(key: string): Promise<number | undefined> {
  using _guard = await cache.read(); // re-enters the read lock
  return entries.get(key);
}

const report = spawn('report', async () => {
  using _guard = await cache.read();
  await sleep(5); // the writer starts waiting meanwhile
  return await lookup('a'); // still holding the outer read lock
});
const refresh = spawn('refresh', async () => {
  await sleep(1);
  using _guard = await cache.write();
  entries.set('a', 2);
});
await Promise.all([report.join(), refresh.join()]);
console.log('done');
