/**
 * A dispatcher waits for whichever comes first: a result, or a cancel request, with a deadline.
 *
 * The main flow selects over two channels with a timeout, three times. In Node's own timing each
 * worker's result arrives first, so the `results` case fires; the `cancel` channel is never used.
 * A deadline exists for the day the work is slow: then the dispatcher gives up and closes
 * `results`, and the worker, whose next send fails, stops. `lockscope explore` runs that day too
 * (it lets a 2 ms sleep outlast the 1000 ms deadline), so both endings are handled.
 *
 * What it teaches: `select` waits on all its cases at once and performs exactly one. To
 * Lockscope it is one wait, on every case, and it ends when any case fires, when the deadline
 * passes or when the signal aborts; a select is never "still waiting" on the cases that lost.
 */
import { Channel, ChannelClosedError, select, sleep, spawn, TimeoutError } from 'lockscope';

const results = new Channel<number>(0, { name: 'results' });
const cancel = new Channel<string>(0, { name: 'cancel' });

const worker = spawn('worker', async () => {
  try {
    for (let job = 1; job <= 3; job++) {
      await sleep(2); // the work
      await results.send(job * job);
    }
  } catch (err) {
    if (!(err instanceof ChannelClosedError)) throw err;
  }
});

for (let i = 0; i < 3; i++) {
  try {
    const r = await select([{ recv: results }, { recv: cancel }], { timeout: 1000 });
    console.log(r.index === 0 ? `result ${String(r.value)}` : 'cancelled');
  } catch (err) {
    if (!(err instanceof TimeoutError)) throw err;
    console.log('no result within 1 s: giving up');
    results.close();
    break;
  }
}
await worker.join();
console.log('dispatcher done');
