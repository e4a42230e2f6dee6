/**
 * A connection pool: a Semaphore(3) lets at most three of ten jobs run at once.
 *
 * Ten jobs each need a database connection, and the pool has three. Each job takes a permit
 * with `using conn = await pool.acquire()` before its query and gives it back when its block
 * ends; the fourth job onwards waits in acquire() until a permit comes back, in FIFO order.
 *
 * What it teaches: a counting semaphore bounds concurrency, and `using` guarantees that a permit
 * is returned. Clean: it prints the highest number of jobs seen running at once (3) and exits.
 */
import { Semaphore, sleep, spawn } from 'lockscope';

const JOBS = 10;
const pool = new Semaphore(3, { name: 'connection pool' });
let running = 0;
let mostAtOnce = 0;

async function job(id: number): Promise<void> {
  using conn = await pool.acquire();
  running++;
  mostAtOnce = Math.max(mostAtOnce, running);
  await sleep(5 + (id % 3) * 3); // the query
  running--;
  void conn;
}

const jobs = Array.from({ length: JOBS }, (_, id) => spawn(`job ${id}`, () => job(id)));
await Promise.all(jobs.map((j) => j.join()));
console.log(`${JOBS} jobs done, at most ${mostAtOnce} at once`);
