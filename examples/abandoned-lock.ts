/**
 * An abandoned lock: a task throws while holding a mutex it took without `using`.
 *
 * The bookkeeper takes the ledger lock with a bare acquire() and means to release it at the end.
 * But the entry it records is malformed, the parse throws, and release() is never reached. Main
 * catches the error when it joins the bookkeeper and carries on; then the auditor asks for the
 * ledger and waits forever: the lock's holder has ended and nobody else can release it.
 *
 * Node says nothing: the process exits (code 13, an unsettled top-level await) without the
 * auditor's report. Lockscope sees the bookkeeper end while holding `ledger`, and the auditor
 * (and main, joining it) blocked forever behind it.
 *
 * What it teaches: release in every path. The fix (abandoned-lock-using.ts) takes the lock with
 * `using`, which releases it when the block ends, whether normally or by an exception.
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
  const guard = await ledger.acquire();
  for (const line of ['120', '-45', '1O']) entries.push(parseAmount(line)); // '1O': throws
  guard.release(); // never reached: the lock stays held
});

try {
  await bookkeeper.join();
} catch (err) {
  console.log(`bookkeeper failed: ${(err as Error).message}`);
}

const auditor = spawn('auditor', async () => {
  using guard = await ledger.acquire(); // waits forever: the bookkeeper still holds the ledger
  console.log(`auditor checked ${entries.length} entries`);
  void guard;
});
await auditor.join();
console.log('audit complete');
