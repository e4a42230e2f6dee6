/**
 * The lost update: two deposits each read a balance, wait for the database, and write back what
 * they read plus their amount. When both read before either writes, one deposit is lost.
 *
 * Under Node's own timer order this program is correct every time: alice's request comes first,
 * and her read and write (2 ms each, `sleep` standing for the database) are over long before
 * bob's request arrives at 10 ms. But a database's latency varies. `lockscope explore` lets
 * timers end out of their nominal order, as real I/O can, and finds the schedule where bob reads
 * the balance before alice has written it: the assertion at the end fails, and explore names the
 * reordering the failure needs.
 *
 * What it teaches: a read, an await, and a write of shared state is a race whenever anything
 * can run between them; a clean run under one timing proves nothing. The fix is
 * lost-update-fixed.ts: the read and the write under one lock.
 */
import assert from 'node:assert/strict';
import { sleep, spawn } from 'lockscope';

let balance = 100;

/** The database: a read and a write that each take a while. */
async function readBalance(): Promise<number> {
  await sleep(2);
  return balance;
}
async function writeBalance(value: number): Promise<void> {
  await sleep(2);
  balance = value;
}

async function deposit(amount: number): Promise<void> {
  const current = await readBalance();
  await writeBalance(current + amount);
}

const alice = spawn('alice', () => deposit(50));
await sleep(10); // bob's request arrives a little later
const bob = spawn('bob', () => deposit(25));
await Promise.all([alice.join(), bob.join()]);
assert.equal(balance, 175, `a deposit was lost: the balance is ${balance}, not 175`);
console.log(`balance ${balance}`);
