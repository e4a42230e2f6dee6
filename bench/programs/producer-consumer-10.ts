/**
 * Ten flows over one bounded channel, for `npm run bench`'s schedules per second: five producers
 * send five jobs each, five consumers receive until the channel is closed, and main closes it
 * once the producers are done and then joins the consumers.
 */
import { Channel, spawn } from 'lockscope';

const jobs = new Channel<number>(2, { name: 'jobs' });
const producers = [1, 2, 3, 4, 5].map((p) =>
  spawn(`producer ${p}`, async () => {
    for (let i = 0; i < 5; i++) await jobs.send(p * 10 + i);
  }),
);
const consumers = [1, 2, 3, 4, 5].map((c) =>
  spawn(`consumer ${c}`, async () => {
    let handled = 0;
    for await (const job of jobs) handled += job > 0 ? 1 : 0;
    return handled;
  }),
);
for (const p of producers) await p.join();
jobs.close();
let total = 0;
for (const c of consumers) total += await c.join();
if (total !== 25) throw new Error(`handled ${total} jobs of 25`);
