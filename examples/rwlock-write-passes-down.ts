/**
 * The fix of rwlock-read-under-write.ts: the migration reads the version it needs under the write
 * lock it already holds, through a helper that assumes the caller holds the lock, instead of
 * taking a read lock on top of its own write lock.
 *
 * What it teaches: give a helper a variant for callers that hold the lock (here
 * `versionLocked`), and keep the locking variant for everyone else.
 */
import { RWLock, spawn } from 'lockscope';

const schema = new RWLock({ name: 'schema' });
let current = 1;

/** The caller holds `schema`, for reading or writing. */
function versionLocked(): number {
  return current;
}

async function version(): Promise<number> {
  using _guard = await schema.read();
  return versionLocked();
}

const migrate = spawn('migrate', async () => {
  using _guard = await schema.write();
  current = versionLocked() + 1;
});
const reader = spawn('reader', version);
await Promise.all([migrate.join(), reader.join()]);
console.log(`schema version ${current}`);
