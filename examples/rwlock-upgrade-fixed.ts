/**
 * The fix of `rwlock-upgrade.ts`: on a miss, release the read lock before asking to write, and
 * look again under the write lock, since another flow may have filled the entry in between.
 *
 * What it teaches: check, release, lock for writing, check again. Both flows price their item.
 */
import { RWLock, spawn } from 'lockscope';

const prices = new RWLock({ name: 'prices' });
const table = new Map<string, number>();

async function cached(item: string): Promise<number | undefined> {
  using _read = await prices.read();
  return table.get(item);
}

async function priceOf(item: string): Promise<number> {
  const known = await cached(item);
  if (known !== undefined) return known;
  using _write = await prices.write();
  // Another flow may have written the entry while no lock was held.
  if (!table.has(item)) table.set(item, item.length * 10);
  return table.get(item)!;
}

const tasks = ['apple', 'pear'].map((item) => spawn(`price ${item}`, () => priceOf(item)));
for (const t of tasks) await t.join();
console.log(`priced ${table.size} items`);
