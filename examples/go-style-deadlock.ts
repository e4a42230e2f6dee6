/**
 * Two goroutines take the same two mutexes in opposite orders through a Go-style helper module
 * (`lib/go.ts`), and each ends up waiting for the other: a deadlock. The program exits silently
 * (code 13).
 *
 * What it teaches: marking a helper module as library code puts every site of a finding on the
 * caller's line instead of inside the helper. Without the mark, all four sites would be the two
 * lines of `lock()`. The fix is to take the mutexes in one order in both goroutines.
 */
import { Barrier, Mutex } from 'lockscope';
import { go, lock, unlock, wait } from './lib/go.js';

const stock = new Mutex({ name: 'stock' });
const orders = new Mutex({ name: 'orders' });
// Both goroutines hold their first mutex before either asks for its second.
const bothHoldOne = new Barrier(2, { name: 'both hold one' });
const held = (): Promise<unknown> => bothHoldOne.wait();

const restock = go('restock', async () => {
  await lock(stock);
  await held();
  await lock(orders); // waits for ship, which holds orders
  unlock(orders);
  unlock(stock);
});
const ship = go('ship', async () => {
  await lock(orders);
  await held();
  await lock(stock); // waits for restock, which holds stock
  unlock(stock);
  unlock(orders);
});
await wait(restock, ship);
