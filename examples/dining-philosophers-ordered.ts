/**
 * Dining philosophers, fixed: every philosopher takes the lower-numbered fork first.
 *
 * The table is the one of dining-philosophers.ts: five philosophers, five forks, and a pause
 * between the first fork and the second, so that everyone reaches for forks at the same moment.
 * The only change is the order: philosopher 4 sits between fork 4 and fork 0, and now takes
 * fork 0 first. Then no cycle of waits can form: whoever holds the highest fork it needs can
 * always take it, eat, and put both down.
 *
 * What it teaches: Dijkstra's fix for deadlock is one global order of acquisition (here, the
 * fork number). Waits still happen (neighbours queue for a shared fork), but they all end, and
 * the program prints "everyone has eaten". The buggy version is dining-philosophers.ts.
 */
import { Mutex, sleep } from 'lockscope';

const SEATS = 5;
const forks = Array.from({ length: SEATS }, (_, i) => new Mutex({ name: `fork ${i}` }));

class Philosopher {
  constructor(
    readonly seat: number,
    readonly first: Mutex,
    readonly second: Mutex,
  ) {}

  async dine(meals: number): Promise<void> {
    for (let meal = 0; meal < meals; meal++) {
      using firstFork = await this.first.acquire();
      await sleep(5);
      using secondFork = await this.second.acquire();
      console.log(`philosopher ${this.seat} eats meal ${meal + 1}`);
      void firstFork;
      void secondFork;
    }
  }
}

const philosophers = forks.map((_, seat) => {
  const left = seat;
  const right = (seat + 1) % SEATS;
  // The fix: the lower-numbered fork first, whichever side it is on.
  return new Philosopher(seat, forks[Math.min(left, right)]!, forks[Math.max(left, right)]!);
});

await Promise.all(philosophers.map((p) => p.dine(3)));
console.log('everyone has eaten');
