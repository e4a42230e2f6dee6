/**
 * A schedule of about 1,000 decisions, for `npm run bench`'s step-through latency: ten tasks take
 * one lock fifty times each, with a sleep between their turns.
 */
import { Mutex, sleep, spawn } from 'lockscope';

const lock = new Mutex({ name: 'counter' });
let count = 0;
const tasks = Array.from({ length: 10 }, (_, i) =>
  spawn(`worker ${i}`, async () => {
    for (let n = 0; n < 50; n++) {
      {
        using _ = await lock.acquire();
        count++;
      }
      await sleep(1);
    }
  }),
);
for (const t of tasks) await t.join();
if (count !== 500) throw new Error(`counted ${count} of 500`);
