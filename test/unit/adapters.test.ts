// The adapters' pure parts: which are on (LOCKSCOPE_ADAPTERS), version ranges, package folders.
import assert from 'node:assert/strict';
import { join, sep } from 'node:path';
import { describe, test } from 'node:test';
import { ADAPTERS, packageDir, parseAdapters } from '../../runtime-probe/src/adapters/install.js';
import { versionIn, versionParts } from '../../runtime-probe/src/adapters/versions.js';

describe('LOCKSCOPE_ADAPTERS', () => {
  const on = (value: string | undefined): string[] => [...parseAdapters(value).on].sort();

  test('unset or empty: every adapter is on', () => {
    assert.deepEqual(on(undefined), [...ADAPTERS].sort());
    assert.deepEqual(on(''), [...ADAPTERS].sort());
  });

  test('read in order: -name off, name on, none and all', () => {
    assert.deepEqual(on('-async-lock'), ['async-mutex', 'web-locks']);
    assert.deepEqual(on('none'), []);
    assert.deepEqual(on('none, web-locks'), ['web-locks']);
    assert.deepEqual(on('-async-mutex,async-mutex'), [...ADAPTERS].sort());
    assert.deepEqual(on('none,all,-web-locks'), ['async-lock', 'async-mutex']);
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
