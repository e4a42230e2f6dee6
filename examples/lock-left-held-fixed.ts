/**
 * A teller withdraws twice from one account. `withdraw` takes the ledger with a bare
 * `acquire()` and returns early when the balance is short, past its `release()`: the ledger stays
 * held after `withdraw` returned, and the teller's next withdrawal waits for it forever. The
 * program exits silently (code 13).
 *
 * What it teaches: every path out of a function must release what it took. A `using` declaration
 * does it on every path; the fix is `lock-left-held-fixed.ts`.
 */
import { Mutex, spawn } from 'lockscope';

const ledger = new Mutex({ name: 'ledger' });
let balance = 100;

async function withdraw(amount: number): Promise<boolean> {
  using _guard = await ledger.acquire();
  if (balance < amount) return false; // the guard is released on this path too
  balance -= amount;
  return true;
}

const teller = spawn('teller', async () => {
  console.log(`withdraw 500: ${await withdraw(500)}`);
  console.log(`withdraw 20: ${await withdraw(20)}`);
});
await teller.join();
console.log(`balance ${balance}`);
