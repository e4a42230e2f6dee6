/**
 * A bounded buffer built by hand from a Mutex and two Conditions (a monitor).
 *
 * `put` waits on `not full` while the buffer holds CAPACITY items; `take` waits on `not empty`
 * while it holds none. Each side notifies the other after changing the buffer. Both wait with
 * waitFor(), which re-checks the predicate after every wake-up, as a `while` loop around wait()
 * would: a wake-up only means "look again". Two producers put numbers; once they are done, main
 * puts one sentinel (`DONE`) per consumer, and each consumer stops when it takes one.
 *
 * What it teaches: what a bounded channel does inside (compare producer-consumer-channel.ts), and
 * the classic sentinel shutdown. Clean: it prints the total and exits.
 */
import { Condition, Mutex, sleep, spawn } from 'lockscope';

const DONE = Symbol('done');
type Item = number | typeof DONE;

class BoundedBuffer {
  readonly #items: Item[] = [];
  readonly #lock = new Mutex({ name: 'buffer lock' });
  readonly #notEmpty = new Condition(this.#lock, { name: 'not empty' });
  readonly #notFull = new Condition(this.#lock, { name: 'not full' });

  constructor(readonly capacity: number) {}

  async put(item: Item): Promise<void> {
    using guard = await this.#lock.acquire();
    await this.#notFull.waitFor(() => this.#items.length < this.capacity);
    this.#items.push(item);
    this.#notEmpty.notify();
    void guard;
  }

  async take(): Promise<Item> {
    using guard = await this.#lock.acquire();
    await this.#notEmpty.waitFor(() => this.#items.length > 0);
    const item = this.#items.shift()!;
    this.#notFull.notify();
    void guard;
    return item;
  }
}

const buffer = new BoundedBuffer(2);

async function produce(id: number): Promise<void> {
  for (let i = 1; i <= 5; i++) await buffer.put(id * 100 + i);
}

async function consume(): Promise<number> {
  let sum = 0;
  for (let item = await buffer.take(); item !== DONE; item = await buffer.take()) {
    await sleep(2); // the work
    sum += item;
  }
  return sum;
}

const producers = [1, 2].map((id) => spawn(`producer ${id}`, () => produce(id)));
const consumers = [1, 2].map((id) => spawn(`consumer ${id}`, consume));

await Promise.all(producers.map((p) => p.join()));
for (const _ of consumers) await buffer.put(DONE); // one sentinel per consumer
const sums = await Promise.all(consumers.map((c) => c.join()));
console.log(`consumers summed ${sums.join(' + ')} = ${sums.reduce((a, b) => a + b)}`);
