/**
 * The main flow consumes a channel until it is closed; a spawned producer closes it.
 *
 * The consumer is the program's main flow: it waits in a `for await` loop (a recv() on the empty
 * channel) between jobs, and when the producer is done it closes the channel, which wakes that
 * last receive with `{ ok: false }` and ends the loop. Nothing is wrong with this program.
 *
 * What it teaches: `close()` is how a producer says "no more"; every receiver waiting at that
 * moment is woken, and its wait has ended (Lockscope must see that wait end too: a wait that
 * ends without an event would look like a consumer blocked forever).
 */
import { Channel, sleep, spawn } from 'lockscope';

const jobs = new Channel<string>(0, { name: 'jobs' });

const producer = spawn('producer', async () => {
  for (let i = 1; i <= 3; i++) {
    await jobs.send(`job ${i}`);
    await sleep(1);
  }
  await sleep(5); // the consumer is waiting for a fourth job when the channel closes
  jobs.close();
});

let handled = 0;
for await (const job of jobs) {
  void job;
  handled++;
}
await producer.join();
console.log(`handled ${handled} jobs`);
