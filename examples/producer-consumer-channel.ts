/**
 * Producers and consumers over a bounded channel, shut down by closing it.
 *
 * Two producers send numbered jobs into a Channel of capacity 2; two consumers take them out
 * with `for await`. When the buffer is full a producer waits in send(); when it is empty a
 * consumer waits in recv(). Once both producers have finished (main joins them), main closes
 * the channel: each consumer's loop drains what is left and then ends.
 *
 * What it teaches: a bounded channel gives back-pressure for free, and close() is how the
 * receiving side learns that nothing more is coming. Forgetting it is the bug of
 * producer-consumer-forgotten-close.ts. This one is clean: it prints how many jobs each
 * consumer handled and exits.
 */
import { Channel, sleep, spawn } from 'lockscope';

const JOBS_PER_PRODUCER = 5;
const jobs = new Channel<string>(2, { name: 'jobs' });

async function produce(id: number): Promise<void> {
  for (let i = 1; i <= JOBS_PER_PRODUCER; i++) {
    await jobs.send(`job ${id}.${i}`);
  }
}

async function consume(): Promise<number> {
  let handled = 0;
  for await (const job of jobs) {
    await sleep(2); // the work
    void job;
    handled++;
  }
  return handled;
}

const producers = [1, 2].map((id) => spawn(`producer ${id}`, () => produce(id)));
const consumers = [1, 2].map((id) => spawn(`consumer ${id}`, consume));

await Promise.all(producers.map((p) => p.join()));
jobs.close(); // nothing more is coming: the consumers' loops end once the buffer is drained
const handled = await Promise.all(consumers.map((c) => c.join()));
console.log(`consumers handled ${handled.join(' + ')} = ${handled[0]! + handled[1]!} jobs`);
