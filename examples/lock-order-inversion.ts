/**
 * A lock-order inversion that happens not to deadlock (this time).
 *
 * `transfer` takes the `accounts` lock, then the `audit` lock; `report` takes `audit`, then
 * `accounts`. Main runs them one after the other (it joins `transfer` before it starts `report`),
 * so their critical sections never overlap and the run ends cleanly. But the two orders
 * contradict each other: were the two tasks ever to run at the same time, each could take its
 * first lock and wait forever for the other's, as in dining-philosophers.ts.
 *
 * Lockscope reports this potential deadlock without it having to happen: the lock-order graph
 * has the edge accounts -> audit (from transfer) and the edge audit -> accounts (from report), a
 * cycle.
 *
 * What it teaches: a clean run does not prove the absence of deadlock; one global lock order
 * does. Fix it by taking `accounts` before `audit` everywhere.
 */
import { Mutex, sleep, spawn } from 'lockscope';

const accounts = new Mutex({ name: 'accounts' });
const audit = new Mutex({ name: 'audit' });
const log: string[] = [];

const transfer = spawn('transfer', async () => {
  using a = await accounts.acquire();
  await sleep(2); // move the money
  using b = await audit.acquire(); // order: accounts, then audit
  log.push('transfer 100 from alice to bob');
  void [a, b];
});
await transfer.join(); // `report` starts only now, so the two never overlap

const report = spawn('report', async () => {
  using b = await audit.acquire();
  await sleep(2); // read the log
  using a = await accounts.acquire(); // order: audit, then accounts (inverted)
  log.push(`report: ${log.length} transfer(s) checked against the accounts`);
  void [a, b];
});
await report.join();
console.log(log.join('\n'));
