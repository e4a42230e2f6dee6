// How a Node child's environment is completed so that it reports to its parent's session
// (runtime-probe/src/children.ts), and the program's environment that `lockscope run` makes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { childEnvironment, isNodeExecutable } from '../../runtime-probe/src/children.js';
import { programEnvironment } from '../../runtime-probe/src/run-child.js';
import { processWords } from '../../runtime-probe/src/analysis/wording.js';

const FLAGS = '--import file:///p/register.mjs';
const SESSION = {
  LOCKSCOPE_ENDPOINT: '/tmp/c/collector.sock',
  LOCKSCOPE_TOKEN: 't0k',
  LOCKSCOPE_LOSSLESS: '1',
  LOCKSCOPE_NODE_OPTIONS: FLAGS,
};

describe('child processes', () => {
  test('a Node executable is this Node or a program named node', () => {
    assert.ok(isNodeExecutable('/usr/bin/node', '/usr/bin/node'));
    assert.ok(isNodeExecutable('/opt/n/bin/node', '/usr/bin/node'));
    assert.ok(isNodeExecutable('node', '/usr/bin/node'));
    assert.ok(isNodeExecutable('C:\\Program Files\\nodejs\\node.exe', 'C:\\x\\node.exe'));
    assert.ok(!isNodeExecutable('/bin/sh', '/usr/bin/node'));
    assert.ok(!isNodeExecutable('/usr/bin/python3', '/usr/bin/node'));
    assert.ok(!isNodeExecutable('nodemon', '/usr/bin/node'));
  });

  test('an empty environment gets the session and the flags', () => {
    assert.deepEqual(childEnvironment({}, SESSION), { ...SESSION, NODE_OPTIONS: FLAGS });
  });

  test("a child's own NODE_OPTIONS is kept, with the flags after it", () => {
    const env = childEnvironment({ ...SESSION, NODE_OPTIONS: '--max-old-space-size=100' }, SESSION);
    assert.equal(env.NODE_OPTIONS, `--max-old-space-size=100 ${FLAGS}`);
  });

  test('an environment that has everything is returned as it is', () => {
    const given = { ...SESSION, NODE_OPTIONS: `--trace-warnings ${FLAGS}`, HOME: '/h' };
    assert.equal(childEnvironment(given, SESSION), given);
  });

  test('an empty endpoint opts out; another collector is left alone', () => {
    const out = { LOCKSCOPE_ENDPOINT: '' };
    assert.equal(childEnvironment(out, SESSION), out);
    const elsewhere = { LOCKSCOPE_ENDPOINT: '/elsewhere.sock', LOCKSCOPE_TOKEN: 'x' };
    assert.equal(childEnvironment(elsewhere, SESSION), elsewhere);
  });

  test('outside a session nothing is added', () => {
    const given = { PATH: '/bin' };
    assert.equal(childEnvironment(given, {}), given);
  });

  test("the program's environment carries the flags in NODE_OPTIONS after the user's", () => {
    const env = programEnvironment({ NODE_OPTIONS: '--no-warnings', PATH: '/bin' }, SESSION, [
      '--import',
      'file:///p/register.mjs',
    ]);
    assert.equal(env.NODE_OPTIONS, `--no-warnings ${FLAGS}`);
    assert.equal(env.LOCKSCOPE_NODE_OPTIONS, FLAGS);
    assert.equal(env.LOCKSCOPE_TOKEN, 't0k');
    assert.equal(env.PATH, '/bin');
  });

  test('a process is named by its script, else its title, with its pid', () => {
    const title = '/usr/bin/node';
    assert.equal(processWords.name({ pid: 7, title, script: '/w/src/worker.ts' }), 'worker.ts (7)');
    assert.equal(processWords.name({ pid: 7, title, script: 'C:\\w\\app.mjs' }), 'app.mjs (7)');
    assert.equal(processWords.name({ pid: 7, title }), '/usr/bin/node (7)');
  });
});
