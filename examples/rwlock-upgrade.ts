/**
 * Two flows read a shared price table and, on a miss, ask for the write lock while still holding
 * the read lock: an upgrade. Neither write can be granted while any read is held, its own
 * included, so both wait forever and the program exits silently (code 13).
 *
 * What it teaches: a read-write lock cannot be upgraded in place. Release the read lock before
 * asking to write, and check again under the write lock (another flow may have written first).
 * The fix is `rwlock-upgrade-fixed.ts`.
 */
import { RWLock, spawn } from 'lockscope';

const prices = new RWLock({ name: 'prices' });
const table = new Map<string, number>();

async function priceOf(item: string): Promise<number> {
  using _read = await prices.read();
  const known = table.get(item);
  if (known !== undefined) return known;
  using _write = await prices.write(); // BUG: upgrades while holding the read lock
  table.set(item, item.length * 10);
  return table.get(item)!;
}

const tasks = ['apple', 'pear'].map((item) => spawn(`price ${item}`, () => priceOf(item)));
for (const t of tasks) await t.join();
console.log(`priced ${table.size} items`);
