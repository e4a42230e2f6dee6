/**
 * A dispatcher waits for whichever comes first: a result, or a cancel request, with a deadline.
 *
 * The main flow selects over two channels with a timeout, three times. Each time a worker's
 * result arrives first, so the `results` case fires; the `cancel` channel is never used and the
 * deadline never passes. Nothing is wrong with this program.
 *
 * What it teaches: `select` waits on all its cases at once and performs exactly one. To
 * Lockscope it is one wait, on every case, and it ends when any case fires, when the deadline
 * passes or when the signal aborts; a select is never "still waiting" on the cases that lost.
 */
import { Channel, select, sleep, spawn } from 'lockscope';

const results = new Channel<number>(0, { name: 'results' });
const cancel = new Channel<string>(0, { name: 'cancel' });

const worker = spawn('worker', async () => {
  for (let job = 1; job <= 3; job++) {
    await sleep(2); // the work
    await results.send(job * job);
  }
});

for (let i = 0; i < 3; i++) {
  const r = await select([{ recv: results }, { recv: cancel }], { timeout: 1000 });
  console.log(r.index === 0 ? `result ${String(r.value)}` : 'cancelled');
}
// The worker ends on its own once its last result is taken; the main flow's last wait was that
// select, which ended when the result arrived.
void worker;
console.log('dispatcher done');
