/**
 * The livelock fixed: randomized, exponential back-off.
 *
 * The two transfers of livelock.ts again: each locks its source account, debits it, tries to
 * lock the destination, and on failure undoes the debit, lets go, and retries. They still collide
 * on the first attempt, since they start together. But now each backs off for a random time
 * drawn from a range that doubles with every attempt (exponential back-off with full jitter), so
 * their next attempts no longer coincide: one gets both accounts, and then so does the other.
 *
 * The randomness comes from a small seeded generator (mulberry32), one per transfer, so that the
 * run is the same every time: both succeed by their second attempt.
 *
 * What it teaches: a retry loop around tryAcquire() needs asymmetry to make progress; random
 * back-off is the usual way (Ethernet, lock-free algorithms, HTTP clients). Clean: no task fails
 * on the same lock more than once in a row, and the program ends.
 */
import { Mutex, sleep, spawn } from 'lockscope';

const MAX_ATTEMPTS = 30;
const WORK_MS = 2;
const BASE_BACKOFF_MS = 10;
const MAX_BACKOFF_MS = 1000;

const accountA = new Mutex({ name: 'account A' });
const accountB = new Mutex({ name: 'account B' });

/** mulberry32: a tiny seeded generator of numbers in [0, 1). */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function transfer(from: Mutex, to: Mutex, random: () => number): Promise<number | undefined> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    {
      using source = await from.acquire();
      await sleep(WORK_MS); // debit the source account
      using destination = to.tryAcquire();
      if (destination) return attempt;
      await sleep(WORK_MS); // undo the debit, then let go of the source
      void source;
    }
    // The fix: a random wait, from a range that doubles with every failed attempt, up to a cap
    // (uncapped, 2^attempt overflows any timer long before the last attempt).
    await sleep(Math.round(Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** attempt) * random()));
  }
  return undefined;
}

const transfers = [
  spawn('transfer A->B', () => transfer(accountA, accountB, mulberry32(42))),
  spawn('transfer B->A', () => transfer(accountB, accountA, mulberry32(43))),
];
for (const t of transfers) {
  const attempts = await t.join();
  console.log(
    attempts === undefined
      ? `${t.name} gave up after ${MAX_ATTEMPTS} attempts`
      : `${t.name} succeeded at attempt ${attempts}`,
  );
}
