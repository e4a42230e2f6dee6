/**
 * Dining philosophers without a sleep: the deadlock is there, but only in some schedules.
 *
 * The same table as dining-philosophers.ts, with the sleep between the two forks taken out. Each
 * philosopher spawns as a task and eats three meals. In Node's own order the first philosopher
 * often eats before the last one has sat down, so most runs end well and the bug stays hidden.
 * It needs one particular interleaving: every philosopher holding a left fork before any takes
 * a right one. `lockscope explore` searches the schedules for it and replays the one it finds.
 *
 * What it teaches: a deadlock does not need a slow step to happen; it needs an order of events,
 * which a test run may never produce. The fix is the same as for dining-philosophers.ts: take the
 * forks in one global order (dining-philosophers-ordered.ts).
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
