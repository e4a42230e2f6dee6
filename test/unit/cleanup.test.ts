// The pure decisions behind the cleanup of `lockscope run` and of collectors' folders: reading
// /proc's stat lines and owner files, judging whether a folder's owner is gone, how a stop is
// said, and how a signal reaches the program's group or tree.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ownerGone, parseOwner, type Owner } from '../../runtime-probe/src/collector-folder.js';
import { parseProcStat } from '../../runtime-probe/src/processes.js';
import { describeStop, isStopSignal, killPlan } from '../../runtime-probe/src/run-child.js';

describe('parseProcStat', () => {
  test('reads the state, the process group and the start time', () => {
    const line =
      '5852 (cat) R 5848 5848 29364 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 3327838 3133440 390';
    assert.deepEqual(parseProcStat(line), { state: 'R', pgrp: 5848, start: '3327838' });
  });

  test('a command name with spaces and parentheses does not shift the fields', () => {
    const line = '7 (a) b (c)) Z 1 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0';
    assert.deepEqual(parseProcStat(line), { state: 'Z', pgrp: 42, start: '99' });
  });

  test('anything else is not a stat line', () => {
    for (const text of ['', 'garbage', '1 (x) S 1', '1 (x) S 1 two 3']) {
      assert.equal(parseProcStat(text), undefined, text);
    }
  });
});

describe('owner files', () => {
  test('parseOwner keeps a positive integer pid and the string fields, and nothing else', () => {
    assert.deepEqual(parseOwner('{"pid":12,"start":"99","host":"h","pidns":"pid:[1]","x":1}'), {
      pid: 12,
      start: '99',
      host: 'h',
      pidns: 'pid:[1]',
    });
    assert.deepEqual(parseOwner('{"pid":12}\n'), { pid: 12 });
    for (const text of [
      '',
      '{"pid":',
      'null',
      '[]',
      '{"pid":"12"}',
      '{"pid":0}',
      '{"pid":-3}',
      '{"pid":1.5}',
      '{"pid":12,"start":99}',
    ]) {
      assert.equal(parseOwner(text), undefined, text);
    }
  });

  const here = { host: 'h', pidns: 'pid:[1]' };
  const owner: Owner = { pid: 12, start: '99', ...here };

  test('an owner whose pid no longer exists is gone', () => {
    assert.equal(ownerGone(owner, here, { exists: false, start: undefined }), true);
  });

  test('a live pid is the owner, unless its start time shows it was handed out again', () => {
    assert.equal(ownerGone(owner, here, { exists: true, start: '99' }), false);
    assert.equal(ownerGone(owner, here, { exists: true, start: '100' }), true);
    // Where start times are unknown, a live pid is always taken as the owner.
    assert.equal(ownerGone(owner, here, { exists: true, start: undefined }), false);
    assert.equal(ownerGone({ pid: 12, ...here }, here, { exists: true, start: '100' }), false);
  });

  test('a pid of another machine or pid namespace proves nothing here', () => {
    const dead = { exists: false, start: undefined };
    assert.equal(ownerGone({ ...owner, host: 'other' }, here, dead), false);
    assert.equal(ownerGone({ ...owner, pidns: 'pid:[2]' }, here, dead), false);
    assert.equal(ownerGone({ pid: 12, host: 'h' }, here, dead), false);
  });
});

describe('stopping the program', () => {
  test('each stop says why', () => {
    assert.equal(
      describeStop({ kind: 'deadlock', finding: 'self-deadlock' }),
      'it is deadlocked (self-deadlock)',
    );
    assert.equal(describeStop({ kind: 'timeout', seconds: 1.5 }), 'the --timeout of 1.5 s passed');
    assert.match(describeStop({ kind: 'signal', signal: 'SIGINT' }), /SIGINT, as Ctrl\+C sends/);
    assert.match(describeStop({ kind: 'signal', signal: 'SIGTERM' }), /\(SIGTERM\)/);
    assert.match(describeStop({ kind: 'signal', signal: 'SIGHUP' }), /hung up \(SIGHUP\)/);
  });

  test('the stop signals are SIGINT, SIGTERM and SIGHUP', () => {
    assert.ok(['SIGINT', 'SIGTERM', 'SIGHUP'].every(isStopSignal));
    assert.equal(isStopSignal('SIGUSR1'), false);
  });

  test('a signal goes to the group on POSIX systems, and taskkill ends the tree on Windows', () => {
    assert.deepEqual(killPlan('linux', 321, 'SIGTERM'), {
      how: 'group',
      pid: -321,
      signal: 'SIGTERM',
    });
    assert.deepEqual(killPlan('darwin', 321, 'SIGKILL'), {
      how: 'group',
      pid: -321,
      signal: 'SIGKILL',
    });
    assert.deepEqual(killPlan('win32', 321, 'SIGINT'), {
      how: 'tree',
      command: 'taskkill',
      args: ['/T', '/F', '/PID', '321'],
    });
  });
});
