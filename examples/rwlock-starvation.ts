/**
 * Reader starvation under a writer-preferring read-write lock.
 *
 * RWLock's default policy is `writer-preferring`: once a writer waits, new and waiting readers
 * stand aside until no writer waits. That protects writers from a stream of readers, but here it
 * is the readers that starve: two writers update a price table in turn, and each asks for the
 * lock again while the other still holds it, so a writer is always waiting. The reader, which
 * asks during writer 1's first update, is passed over at every hand-off and gets in only
 * once both writers are done: about WRITES_EACH * 2 writes later.
 *
 * Lockscope sees the reader wait on `price table` for the whole run while the lock is granted
 * again and again to the writers: starvation of `reader` by `writer 1` and `writer 2`.
 *
 * What it teaches: a preference policy decides who can starve. The fix is
 * `new RWLock({ policy: 'fair' })`: strict arrival order, so the reader gets in as soon as the
 * writers that asked before it are done (after 2 writes instead of 60).
 */
import { RWLock, sleep, spawn } from 'lockscope';

const WRITES_EACH = 30;
const table = new RWLock({ name: 'price table' }); // policy: 'writer-preferring', the default
let writes = 0;

async function writer(): Promise<void> {
  for (let i = 0; i < WRITES_EACH; i++) {
    using guard = await table.write();
    await sleep(1); // update the prices
    writes++;
    void guard;
  }
}

async function reader(): Promise<number> {
  const asked = writes;
  using guard = await table.read(); // passed over while any writer waits
  void guard;
  return writes - asked;
}

const writers = [1, 2].map((id) => spawn(`writer ${id}`, writer));
const readerTask = spawn('reader', reader);
const writesWhileWaiting = await readerTask.join();
await Promise.all(writers.map((w) => w.join()));
console.log(`the reader waited while ${writesWhileWaiting} of ${writes} writes went through`);
