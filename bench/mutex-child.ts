/**
 * One measurement process for bench/run.ts: times uncontended acquire + release of one mutex
 * implementation and prints `{ nsPerOp, produced, dropped }` as JSON. Each implementation runs in
 * a process of its own, so that one cannot slow the other (the probe's AsyncLocalStorage, for
 * instance, changes the cost of every await in the process).
 *
 * The peers are measured in their fastest builds as well as the default one: async-mutex's
 * CommonJS build (loaded with `require`) is several times faster here than its ES module build,
 * which an `import` would load.
 */

interface AsyncMutexLike {
  acquire(): Promise<() => void>;
}
type AsyncMutexClass = new () => AsyncMutexLike;

async function asyncMutex(build: 'cjs' | 'esm'): Promise<AsyncMutexClass> {
  if (build === 'cjs') {
    return (createRequire(import.meta.url)('async-mutex') as { Mutex: AsyncMutexClass }).Mutex;
  }
  return ((await import('async-mutex')) as unknown as { Mutex: AsyncMutexClass }).Mutex;
}

interface LockManagerLike {
  request(name: string, callback: () => Promise<void> | void): Promise<void>;
}
import { createRequire } from 'node:module';

const kind = process.argv[2];
const iterations = Number(process.argv[3] ?? 200_000);
const rounds = Number(process.argv[4] ?? 7);

/** The smallest correct promise mutex: the "hand-written" reference of the brief. */
class HandMutex {
  #locked = false;
  #queue: (() => void)[] = [];
  acquire(): Promise<() => void> {
    if (!this.#locked) {
      this.#locked = true;
      return Promise.resolve(this.#release);
    }
    return new Promise((resolve) => this.#queue.push(() => resolve(this.#release)));
  }
  #release = (): void => {
    const next = this.#queue.shift();
    if (next) next();
    else this.#locked = false;
  };
}

async function loop(): Promise<() => Promise<void>> {
  switch (kind) {
    case 'async-mutex-cjs':
    case 'async-mutex-esm': {
      const AsyncMutex = await asyncMutex(kind === 'async-mutex-cjs' ? 'cjs' : 'esm');
      const m = new AsyncMutex();
      return async () => {
        for (let i = 0; i < iterations; i++) {
          const release = await m.acquire();
          release();
        }
      };
    }
    case 'hand': {
      const m = new HandMutex();
      return async () => {
        for (let i = 0; i < iterations; i++) {
          const release = await m.acquire();
          release();
        }
      };
    }
    case 'navigator-locks': {
      // Node 24.5 and later; the caller runs this kind on Node 24 only.
      const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
      if (!locks) throw new Error(`navigator.locks is not available on Node ${process.version}`);
      const empty = (): void => {};
      return async () => {
        for (let i = 0; i < iterations; i++) await locks.request('bench', empty);
      };
    }
    case 'await-plain':
    case 'await-lockscope': {
      // Identity's cost on code without locks: an await-heavy loop of nested async calls, with
      // the probe loaded (its promise hooks on) or not. The result counts one outer call.
      if (kind === 'await-lockscope') await import('lockscope');
      // An async function that returns at once: the commonest await in real code.
      // eslint-disable-next-line @typescript-eslint/require-await -- the shape being measured.
      const leaf = async (i: number): Promise<number> => i;
      const middle = async (i: number): Promise<number> => (await leaf(i)) + 1;
      let sum = 0;
      return async () => {
        for (let i = 0; i < iterations; i++) sum += await middle(i);
        if (sum < 0) throw new Error('unreachable: keeps the loop from being optimised away');
      };
    }
    case 'lockscope': {
      const { Mutex } = await import('lockscope');
      const m = new Mutex({ name: 'bench' });
      return async () => {
        for (let i = 0; i < iterations; i++) {
          const guard = await m.acquire();
          guard.release();
        }
      };
    }
    case 'lockscope-short-lived': {
      // A mutex made for each acquisition and dropped: what the `collected` events cost (the
      // resource registered, watched by a FinalizationRegistry, and its collection recorded), by
      // comparison with one long-lived mutex.
      const { Mutex } = await import('lockscope');
      return async () => {
        for (let i = 0; i < iterations; i++) {
          const m = new Mutex({ name: 'short' });
          const guard = await m.acquire();
          guard.release();
        }
      };
    }
    default:
      throw new Error(`unknown mutex kind ${kind}`);
  }
}

const run = await loop();
await run(); // Warm up: JIT, and the probe's first blocking call enables its AsyncLocalStorage.
const samples: number[] = [];
for (let r = 0; r < rounds; r++) {
  const t0 = process.hrtime.bigint();
  await run();
  samples.push(Number(process.hrtime.bigint() - t0) / iterations);
}
samples.sort((a, b) => a - b);
let produced = 0;
let dropped = 0;
if (kind?.startsWith('lockscope') || kind === 'await-lockscope') {
  const { stats, flushEvents } = await import('lockscope');
  flushEvents();
  produced = stats().produced;
  dropped = stats().dropped;
}
process.stdout.write(
  JSON.stringify({ nsPerOp: samples[Math.floor(samples.length / 2)], produced, dropped }) + '\n',
);
