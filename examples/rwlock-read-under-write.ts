/**
 * A flow that holds a read-write lock for writing asks for it again for reading: it waits for
 * itself, forever.
 *
 * `migrate` takes `schema` for writing and then calls `version()`, which takes a read lock on the
 * same `schema`. A read cannot be granted while a write is held, even to the writer, so the
 * flow waits for its own lock and the program exits silently (code 13).
 *
 * What it teaches: a read-write lock is not re-entrant in either mode. Pass what the helper
 * needs, or give it a variant that assumes the caller holds the lock.
 */
import { RWLock, spawn } from 'lockscope';

const schema = new RWLock({ name: 'schema' });
let current = 1;

async function version(): Promise<number> {
  using _guard = await schema.read();
  return current;
}

const migrate = spawn('migrate', async () => {
  using _guard = await schema.write();
  current = (await version()) + 1; // BUG: a read under its own write lock
});
await migrate.join();
console.log(`schema version ${current}`);
