/**
 * Dining philosophers: the classic deadlock.
 *
 * Five philosophers sit at a round table with one fork between each pair. To eat, a philosopher
 * picks up the left fork, then the right one. If all five pick up their left fork at the same
 * moment, each waits forever for the right fork, which a neighbour holds: a cycle of waits.
 *
 * In Node this bug is silent: with every philosopher blocked on a promise, the event loop drains
 * and the process just exits. Lockscope sees the five waits and the cycle they form.
 *
 * What it teaches: hold-and-wait plus a circular order of acquisition gives a deadlock. The fix
 * (dining-philosophers-ordered.ts) is Dijkstra's: take the forks in one global order.
 *
 * Note that the philosophers are plain async functions run with Promise.all, without spawn():
 * Lockscope tells them apart by itself.
 */
import { Mutex, sleep } from 'lockscope';

const SEATS = 5;
const forks = Array.from({ length: SEATS }, (_, i) => new Mutex({ name: `fork ${i}` }));

class Philosopher {
  constructor(
    readonly seat: number,
    readonly left: Mutex,
    readonly right: Mutex,
  ) {}

  async dine(meals: number): Promise<void> {
    for (let meal = 0; meal < meals; meal++) {
      using leftFork = await this.left.acquire();
      // Everyone holds a left fork before anyone reaches for a right one.
      await sleep(5);
      using rightFork = await this.right.acquire();
      console.log(`philosopher ${this.seat} eats meal ${meal + 1}`);
      void leftFork;
      void rightFork;
    }
  }
}

const philosophers = forks.map(
  (fork, seat) => new Philosopher(seat, fork, forks[(seat + 1) % SEATS]!),
);

await Promise.all(philosophers.map((p) => p.dine(3)));
console.log('everyone has eaten');
