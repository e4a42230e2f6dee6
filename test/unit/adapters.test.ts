// The adapters' pure parts: which are on (LOCKSCOPE_ADAPTERS), version ranges, package folders,
// what the pg adapter reads of pg_locks, and what the redlock adapter reads of a Redis server's
// replies.
import assert from 'node:assert/strict';
import { join, sep } from 'node:path';
import { describe, test } from 'node:test';
import { ADAPTERS, packageDir, parseAdapters } from '../../runtime-probe/src/adapters/install.js';
import { versionIn, versionParts } from '../../runtime-probe/src/adapters/versions.js';
import {
  lockKey,
  lockName,
  modeOf,
  parseRows,
  type LockRow,
} from '../../runtime-probe/src/adapters/pg-locks.js';
import {
  databaseOf,
  globalKey,
  REDLOCK_RANGE,
  runIdOf,
} from '../../runtime-probe/src/adapters/redlock.js';

describe('LOCKSCOPE_ADAPTERS', () => {
  const on = (value: string | undefined): string[] => [...parseAdapters(value).on].sort();

  test('unset or empty: every adapter is on', () => {
    assert.deepEqual(on(undefined), [...ADAPTERS].sort());
    assert.deepEqual(on(''), [...ADAPTERS].sort());
  });

  test('read in order: -name off, name on, none and all', () => {
    assert.deepEqual(on('-async-lock'), ['async-mutex', 'pg', 'redlock', 'web-locks']);
    assert.deepEqual(on('-pg'), ['async-lock', 'async-mutex', 'redlock', 'web-locks']);
    assert.deepEqual(on('-redlock'), ['async-lock', 'async-mutex', 'pg', 'web-locks']);
    assert.deepEqual(on('none'), []);
    assert.deepEqual(on('none, web-locks'), ['web-locks']);
    assert.deepEqual(on('-async-mutex,async-mutex'), [...ADAPTERS].sort());
    assert.deepEqual(on('none,all,-web-locks'), ['async-lock', 'async-mutex', 'pg', 'redlock']);
  });

  test('an unknown name is a problem, and is ignored', () => {
    const { on: set, problems } = parseAdapters('-asyncmutex,async-lock');
    assert.deepEqual([...set].sort(), [...ADAPTERS].sort());
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /unknown adapter "asyncmutex"/);
  });
});

describe('version ranges', () => {
  const range = { min: '0.5.0', below: '0.6.0' };

  test('min is in, below is out, compared by number', () => {
    assert.equal(versionIn('0.5.0', range), true);
    assert.equal(versionIn('0.5.12', range), true);
    assert.equal(versionIn('0.6.0', range), false);
    assert.equal(versionIn('0.4.9', range), false);
    assert.equal(versionIn('0.10.0', { min: '0.9.0', below: '0.11.0' }), true);
  });

  test('a pre-release counts as its release; what is not a version is out', () => {
    assert.equal(versionIn('0.6.0-beta.1', range), false);
    assert.equal(versionIn('0.5.1-rc.1', range), true);
    assert.equal(versionIn('latest', range), false);
    assert.equal(versionParts('v24.21.0')?.join('.'), '24.21.0');
  });
});

describe('packageDir', () => {
  const base = join(sep, 'app', 'node_modules');

  test('a file inside the package, or its folder', () => {
    const dir = join(base, 'async-mutex');
    assert.equal(packageDir(join(dir, 'lib', 'index.js'), 'async-mutex'), dir);
    assert.equal(packageDir(dir, 'async-mutex'), dir);
  });

  test('the innermost copy, and not a package whose name only starts the same', () => {
    const nested = join(base, 'a', 'node_modules', 'async-mutex');
    assert.equal(packageDir(join(nested, 'index.mjs'), 'async-mutex'), nested);
    assert.equal(packageDir(join(base, 'async-mutex-extra', 'index.js'), 'async-mutex'), undefined);
    assert.equal(packageDir(join(sep, 'app', 'async-mutex', 'index.js'), 'async-mutex'), undefined);
  });
});

describe('pg_locks rows', () => {
  const row = (over: Partial<LockRow>): LockRow => ({
    pid: 10,
    locktype: 'advisory',
    db: '5',
    classid: '0',
    objid: '42',
    objsubid: '1',
    xid: null,
    mode: 'ExclusiveLock',
    granted: true,
    ...over,
  });

  test('an advisory lock is known by its database and key, a transaction by its id', () => {
    assert.equal(lockKey(row({})), 'advisory:5:0:42:1');
    assert.equal(lockKey(row({ objsubid: '2', classid: '1', objid: '2' })), 'advisory:5:1:2:2');
    assert.equal(
      lockKey(row({ locktype: 'transactionid', xid: '739', db: null, classid: null })),
      'xid:739',
    );
    // Lock types the poller does not name are no lock to it.
    assert.equal(lockKey(row({ locktype: 'relation' })), undefined);
    assert.equal(lockKey(row({ locktype: 'tuple' })), undefined);
  });

  test('a bigint key shows as the number the program gave, two int4 keys as a pair', () => {
    assert.equal(lockName(row({})), 'pg advisory lock 42');
    // -1 as a bigint: both halves all ones.
    assert.equal(
      lockName(row({ classid: '4294967295', objid: '4294967295' })),
      'pg advisory lock -1',
    );
    assert.equal(lockName(row({ classid: '1', objid: '0' })), 'pg advisory lock 4294967296');
    assert.equal(
      lockName(row({ objsubid: '2', classid: '4294967295', objid: '7' })),
      'pg advisory lock (-1, 7)',
    );
    assert.equal(lockName(row({ locktype: 'transactionid', xid: '739' })), 'pg transaction 739');
  });

  test('ShareLock is the shared mode, the rest exclusive', () => {
    assert.equal(modeOf('ShareLock'), 1);
    assert.equal(modeOf('ExclusiveLock'), 2);
  });

  test('rows are read as data: a missing column is null, granted only when true', () => {
    const [r] = parseRows([{ pid: '12', locktype: 'advisory', mode: 'ShareLock', granted: 't' }]);
    assert.equal(r!.pid, 12);
    assert.equal(r!.db, null);
    assert.equal(r!.granted, false);
  });
});

describe('redlock: the server and the key', () => {
  const runId = '5f3c8a0e2b1d4c6f8a9b0c1d2e3f4a5b6c7d8e9f';

  test('run_id from INFO server, the database from CLIENT INFO, read as fields', () => {
    const info = `# Server\r\nredis_version:7.0.15\r\nrun_id:${runId}\r\ntcp_port:6379\r\n`;
    assert.equal(runIdOf(info), runId);
    assert.equal(runIdOf(new TextEncoder().encode(info)), runId);
    assert.equal(runIdOf('# Server\r\nredis_version:7.0.15\r\n'), undefined);
    assert.equal(runIdOf(undefined), undefined);
    const client = 'id=7 addr=127.0.0.1:50000 laddr=127.0.0.1:6379 fd=8 name= db=3 sub=0\n';
    assert.equal(databaseOf(client), '3');
    assert.equal(databaseOf('id=7 addr=127.0.0.1:50000 fd=8 name=db=9 sub=0'), undefined);
    assert.equal(databaseOf('id=7 db=12'), '12');
  });

  test('one global key for one key on one set of servers, whatever their order', () => {
    const other = 'a'.repeat(40);
    assert.equal(globalKey([`${runId}/0`], 'orders'), `redis:${runId}/0:orders`);
    assert.equal(
      globalKey([`${runId}/0`, `${other}/0`], 'orders'),
      globalKey([`${other}/0`, `${runId}/0`], 'orders'),
    );
    assert.notEqual(globalKey([`${runId}/0`], 'orders'), globalKey([`${runId}/1`], 'orders'));
  });

  test('redlock 4 from 4.2 is supported, 5 is not', () => {
    assert.equal(versionIn('4.2.0', REDLOCK_RANGE), true);
    assert.equal(versionIn('4.1.0', REDLOCK_RANGE), false);
    assert.equal(versionIn('5.0.0', REDLOCK_RANGE), false);
  });
});
