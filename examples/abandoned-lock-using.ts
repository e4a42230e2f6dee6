/**
 * The abandoned lock fixed: the bookkeeper takes the ledger with `using`.
 *
 * Same story as abandoned-lock.ts: the bookkeeper takes the ledger lock, the parse of a
 * malformed entry throws, and main catches the error when it joins the bookkeeper. But the guard
 * is bound with `using`, so leaving the block, by the exception too, releases the lock. The
 * auditor then takes the ledger at once and finishes.
 *
 * What it teaches: `using guard = await mutex.acquire()` is the async try/finally of locking;
 * prefer it to a bare acquire() and a release() at the end. Clean: it prints the auditor's
 * report and exits.
 */
import { Mutex, spawn } from 'lockscope';

const ledger = new Mutex({ name: 'ledger' });
const entries: number[] = [];

function parseAmount(text: string): number {
  const amount = Number(text);
  if (Number.isNaN(amount)) throw new Error(`malformed amount "${text}"`);
  return amount;
}

const bookkeeper = spawn('bookkeeper', async () => {
  using guard = await ledger.acquire(); // released when the block ends, however it ends
  for (const line of ['120', '-45', '1O']) entries.push(parseAmount(line)); // '1O': throws
  void guard;
});

try {
  await bookkeeper.join();
} catch (err) {
  console.log(`bookkeeper failed: ${(err as Error).message}`);
}

const auditor = spawn('auditor', async () => {
  using guard = await ledger.acquire(); // free again: the throw released it
  console.log(`auditor checked ${entries.length} entries`);
  void guard;
});
await auditor.join();
console.log('audit complete');
