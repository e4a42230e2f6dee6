/**
 * Three workers meet at a barrier for three parties, but one of them gives up early.
 *
 * `checker` returns before its last phase when it finds nothing left to check, so in phase 2
 * only two parties arrive at the barrier. They wait for a third party that will never come:
 * nothing is left to run, and the program exits silently (code 13) without printing "all phases
 * done". This is not a deadlock (the two waiting parties do not wait for each other); it is a
 * barrier short of a party.
 *
 * What it teaches: every party must reach the barrier in every phase, or leave it with
 * `abort()` (which breaks the barrier for the others) instead of returning. The fix is
 * barrier-phases.ts, where every party runs every phase.
 */
import { Barrier, spawn } from 'lockscope';

const PHASES = 3;
const phase = new Barrier(3, { name: 'phase' });

async function work(name: string, stopEarly: boolean): Promise<void> {
  for (let p = 0; p < PHASES; p++) {
    if (stopEarly && p === PHASES - 1) return; // BUG: leaves without arriving
    await phase.wait();
  }
  void name;
}

const workers = [
  spawn('loader', () => work('loader', false)),
  spawn('indexer', () => work('indexer', false)),
  spawn('checker', () => work('checker', true)),
];
await Promise.all(workers.map((w) => w.join()));
console.log('all phases done');
