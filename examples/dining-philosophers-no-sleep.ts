/**
 * Dining philosophers without a sleep: the deadlock is in the order of events, not in a delay.
 *
 * The same table as dining-philosophers.ts, with the sleep between the two forks taken out and
 * each philosopher spawned as a task. The sleep was never what made it deadlock. In Node's own
 * order each philosopher takes its left fork and yields, so all five hold one before any reaches
 * for a second, and the table deadlocks every run. In other orders (a philosopher who gets both
 * forks before the next one sits down) everyone eats. `lockscope explore` runs many orders and
 * finds the cycle among them in a few runs; `lockscope replay` then shows that order step by
 * step, one decision at a time.
 *
 * What it teaches: hold-and-wait in a circular order deadlocks whenever the order of events
 * allows it; no slow step is needed. The fix is the same as for dining-philosophers.ts: take
 * the forks in one global order (dining-philosophers-ordered.ts).
 */
import { Mutex, spawn } from 'lockscope';

const SEATS = 5;
const forks = Array.from({ length: SEATS }, (_, i) => new Mutex({ name: `fork ${i}` }));

async function dine(seat: number): Promise<void> {
  const left = forks[seat]!;
  const right = forks[(seat + 1) % SEATS]!;
  for (let meal = 1; meal <= 3; meal++) {
    using _left = await left.acquire();
    using _right = await right.acquire();
    console.log(`philosopher ${seat} eats meal ${meal}`);
  }
}

const philosophers = forks.map((_, seat) => spawn(`philosopher ${seat}`, () => dine(seat)));
for (const p of philosophers) await p.join();
console.log('everyone has eaten');
