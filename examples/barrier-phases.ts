/**
 * Workers in lockstep phases, separated by a Barrier.
 *
 * Three workers run three phases each (load, compute, store). Each phase takes a different time
 * for each worker, yet no worker starts phase n+1 before all have finished phase n: at the end
 * of a phase every worker waits on the barrier until the last one arrives. The barrier's action
 * runs once per phase, when the last worker arrives, before anyone is released.
 *
 * What it teaches: a cyclic barrier for phased (bulk-synchronous) work; the waits are short and
 * all end, since every party arrives. Clean: it prints the phase log and exits.
 */
import { Barrier, sleep, spawn } from 'lockscope';

const WORKERS = 3;
const PHASES = ['load', 'compute', 'store'];

let phase = 0;
const barrier = new Barrier(WORKERS, {
  name: 'phase barrier',
  action: () => console.log(`-- phase "${PHASES[phase++]}" done by all`),
});

async function work(id: number): Promise<void> {
  for (const name of PHASES) {
    await sleep(3 * (id + 1)); // worker 0 is fastest, worker 2 slowest
    console.log(`worker ${id} finished ${name}`);
    await barrier.wait();
  }
}

const workers = Array.from({ length: WORKERS }, (_, id) => spawn(`worker ${id}`, () => work(id)));
await Promise.all(workers.map((w) => w.join()));
console.log(`all ${WORKERS} workers went through ${barrier.generation} phases together`);
