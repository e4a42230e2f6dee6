/**
 * Producers and consumers over a bounded channel, and a channel nobody closes.
 *
 * The same program as producer-consumer-channel.ts, with one line missing: after the producers
 * have finished, main never closes the channel. The consumers have taken every job, and each
 * waits in its `for await` loop (a recv() on the empty channel) for a value that will never
 * come. Main waits for the consumers in join(), so it waits forever too.
 *
 * In Node this hang is silent: nothing is left that could wake anyone, the event loop drains, and
 * the process exits (code 13, an unsettled top-level await) without printing the totals. Lockscope
 * sees both consumers blocked forever on `jobs`, with no task left that could send or close.
 *
 * What it teaches: a receiver that loops until the channel is closed needs someone to close it.
 * The fix is producer-consumer-channel.ts: close() once the producers are done.
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
console.log('producers are done');
// BUG: jobs.close() is forgotten here, so the consumers' `for await` loops never end.
const handled = await Promise.all(consumers.map((c) => c.join()));
console.log(`consumers handled ${handled.join(' + ')} = ${handled[0]! + handled[1]!} jobs`);
