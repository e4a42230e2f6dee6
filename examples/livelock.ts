/**
 * Livelock: two polite transfers that keep stepping aside for each other.
 *
 * One transfer moves money from account A to account B, the other from B to A. Each locks its
 * source account, debits it, then tries (without waiting) to lock the destination. If that
 * fails, it undoes the debit, releases its own account, backs off, and retries. Nobody ever
 * blocks, so this is no deadlock. But the back-off is fixed and the same for both (the next tick
 * of one retry clock), so they start again at the same moment, lock their own account at the
 * same moment, and fail again: in lockstep, on every attempt. After MAX_ATTEMPTS each gives up,
 * so that the program ends.
 *
 * Lockscope sees each task's tryAcquire() fail on the other's account again and again, while
 * neither makes progress: a livelock of `transfer A->B` and `transfer B->A` on accounts A and B.
 *
 * What it teaches: backing off is not enough when everyone backs off alike. The fix
 * (livelock-backoff.ts) backs off for a random, growing time, so that one transfer gets through.
 */
import { Mutex, sleep, spawn } from 'lockscope';

const MAX_ATTEMPTS = 30;
const WORK_MS = 2;
const BACKOFF_MS = 5;

const accountA = new Mutex({ name: 'account A' });
const accountB = new Mutex({ name: 'account B' });

// The bug: failed transfers retry on the next tick of one clock, a fixed back-off that is the
// same for everyone, so both transfers always wake up at the very same moment.
let tick: Promise<void> | undefined;
function nextRetryTick(): Promise<void> {
  tick ??= sleep(BACKOFF_MS).finally(() => (tick = undefined));
  return tick;
}

async function transfer(from: Mutex, to: Mutex): Promise<number | undefined> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    {
      using source = await from.acquire();
      await sleep(WORK_MS); // debit the source account
      using destination = to.tryAcquire(); // the other transfer holds it, every time
      if (destination) return attempt;
      await sleep(WORK_MS); // undo the debit, then let go of the source
      void source;
    }
    await nextRetryTick();
  }
  return undefined;
}

const transfers = [
  spawn('transfer A->B', () => transfer(accountA, accountB)),
  spawn('transfer B->A', () => transfer(accountB, accountA)),
];
for (const t of transfers) {
  const attempts = await t.join();
  console.log(
    attempts === undefined
      ? `${t.name} gave up after ${MAX_ATTEMPTS} attempts`
      : `${t.name} succeeded at attempt ${attempts}`,
  );
}
