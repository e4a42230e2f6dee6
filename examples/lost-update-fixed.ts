/**
 * The fix of lost-update.ts: each deposit reads and writes the balance under one lock, so no
 * other deposit can run between its read and its write, in any order the database answers in.
 * `lockscope explore` finds no schedule that loses a deposit.
 */
import assert from 'node:assert/strict';
import { Mutex, sleep, spawn } from 'lockscope';

let balance = 100;
const account = new Mutex({ name: 'account' });

async function readBalance(): Promise<number> {
  await sleep(2);
  return balance;
}
async function writeBalance(value: number): Promise<void> {
  await sleep(2);
  balance = value;
}

async function deposit(amount: number): Promise<void> {
  using _ = await account.acquire();
  const current = await readBalance();
  await writeBalance(current + amount);
}

const alice = spawn('alice', () => deposit(50));
await sleep(10); // bob's request arrives a little later
const bob = spawn('bob', () => deposit(25));
await Promise.all([alice.join(), bob.join()]);
assert.equal(balance, 175, `a deposit was lost: the balance is ${balance}, not 175`);
console.log(`balance ${balance}`);
