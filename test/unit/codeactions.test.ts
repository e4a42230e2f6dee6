// The code actions' pure logic: each rewrite is pinned by its exact input and exact output text.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import ts from 'typescript';
import { applyEdits, type TextEdit } from '../../extension/src/codeactions/edits.js';
import { reorderAcquisitions } from '../../extension/src/codeactions/reorder.js';
import { isSuppressed, suppressFinding } from '../../extension/src/codeactions/suppress.js';
import { addTimeout } from '../../extension/src/codeactions/timeout.js';
import { findUnreleased } from '../../extension/src/codeactions/unreleased.js';
import { convertToUsing } from '../../extension/src/codeactions/using.js';

/** The offset of `needle` in `text`, failing the test when it is missing or ambiguous. */
function at(text: string, needle: string): number {
  const i = text.indexOf(needle);
  assert.ok(i >= 0, `${needle} not found`);
  assert.equal(text.indexOf(needle, i + 1), -1, `${needle} found twice`);
  return i;
}

/** Applies the edits, and checks that the result still parses. */
function applied(
  text: string,
  edits: readonly TextEdit[] | TextEdit | undefined,
  fileName = 'file.ts',
): string {
  assert.ok(edits, 'the action should apply');
  const output = applyEdits(text, Array.isArray(edits) ? edits : [edits as TextEdit]);
  const { diagnostics = [] } = ts.transpileModule(output, {
    reportDiagnostics: true,
    fileName,
    compilerOptions: { target: ts.ScriptTarget.ESNext, module: ts.ModuleKind.ESNext },
  });
  const errors = diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  assert.deepEqual(errors, [], `the output does not parse:\n${output}`);
  return output;
}

/** Converts the acquisition found at `needle` and returns the resulting text. */
function usingAt(text: string, needle: string): string {
  return applied(text, convertToUsing(text, 'file.ts', at(text, needle)));
}

function declines(text: string, needle: string): void {
  assert.equal(convertToUsing(text, 'file.ts', at(text, needle)), undefined);
}

describe('applyEdits', () => {
  it('applies edits from the end and keeps insertions at one offset in order', () => {
    const edits = [
      { start: 4, end: 4, newText: 'X' },
      { start: 0, end: 3, newText: 'one' },
      { start: 4, end: 4, newText: 'Y' },
    ];
    assert.equal(applyEdits('abc def', edits), 'one XYdef');
  });

  it('refuses overlapping edits', () => {
    const edits = [
      { start: 0, end: 3, newText: '' },
      { start: 2, end: 4, newText: '' },
    ];
    assert.throws(() => applyEdits('abcdef', edits), RangeError);
  });
});

describe('convert to using', () => {
  it('a: straight-line acquire and release in one block', () => {
    const input = `async function transfer(account: Mutex) {
  const guard = await account.acquire();
  balance -= 10;
  guard.release();
}
`;
    assert.equal(
      usingAt(input, 'const guard'),
      `async function transfer(account: Mutex) {
  using guard = await account.acquire();
  balance -= 10;
}
`,
    );
  });

  it('a: the cursor may be anywhere on the acquisition, even in its indentation', () => {
    const input = `async function f(m: Mutex) {
  const g = await m.acquire({ timeout: 50 });
  work();
  g.release();
}
`;
    const expected = `async function f(m: Mutex) {
  using g = await m.acquire({ timeout: 50 });
  work();
}
`;
    assert.equal(usingAt(input, 'timeout'), expected);
    assert.equal(
      applied(input, convertToUsing(input, 'file.ts', at(input, '  const') + 1)),
      expected,
    );
  });

  it('b: try/finally: the try body moves one level out and the finally goes', () => {
    const input = `async function f(m: Mutex) {
  const g = await m.acquire();
  try {
    await work();
    if (failed) return undefined;
    return result;
  } finally {
    g.release();
  }
}
`;
    assert.equal(
      usingAt(input, 'const g'),
      `async function f(m: Mutex) {
  using g = await m.acquire();
  await work();
  if (failed) return undefined;
  return result;
}
`,
    );
  });

  it('b: a finally with other statements stays, with just those', () => {
    const input = `async function f(m: Mutex) {
  const g = await m.acquire();
  try {
    await work();
  } finally {
    metrics.done();
    g.release();
  }
}
`;
    assert.equal(
      usingAt(input, 'const g'),
      `async function f(m: Mutex) {
  using g = await m.acquire();
  try {
    await work();
  } finally {
    metrics.done();
  }
}
`,
    );
  });

  it('b: a catch stays, and only the finally goes', () => {
    const input = `async function f(m: Mutex) {
  const g = await m.acquire();
  try {
    await work();
  } catch (err) {
    log(err);
  } finally {
    g.release();
  }
}
`;
    assert.equal(
      usingAt(input, 'const g'),
      `async function f(m: Mutex) {
  using g = await m.acquire();
  try {
    await work();
  } catch (err) {
    log(err);
  }
}
`,
    );
  });

  it('b: declined when the finally releases before doing more, as the lock would be held longer', () => {
    declines(
      `async function f(m: Mutex) {
  const g = await m.acquire();
  try {
    await work();
  } finally {
    g.release();
    await metrics.flush();
  }
}
`,
      'const g',
    );
  });

  it('b: a try body that would declare a name twice becomes a plain block', () => {
    const input = `async function f(m: Mutex) {
  const g = await m.acquire();
  const value = 1;
  try {
    const value = await read();
    use(value);
  } finally {
    g.release();
  }
}
`;
    assert.equal(
      usingAt(input, 'const g'),
      `async function f(m: Mutex) {
  using g = await m.acquire();
  const value = 1;
  {
    const value = await read();
    use(value);
  }
}
`,
    );
  });

  it('b: a try/finally followed by more work: un-nested into a new block', () => {
    const input = `async function f(m: Mutex) {
  const g = await m.acquire();
  try {
    const value = await read();
    use(value);
  } finally {
    g.release();
  }
  const value = 2;
}
`;
    assert.equal(
      usingAt(input, 'const g'),
      `async function f(m: Mutex) {
  {
    using g = await m.acquire();
    const value = await read();
    use(value);
  }
  const value = 2;
}
`,
    );
  });

  it('b: lines inside a template literal are not re-indented', () => {
    const input = `async function f(m: Mutex) {
  const g = await m.acquire();
  try {
    log(\`first
    second\`);
  } finally {
    g.release();
  }
}
`;
    assert.equal(
      usingAt(input, 'const g'),
      `async function f(m: Mutex) {
  using g = await m.acquire();
  log(\`first
    second\`);
}
`,
    );
  });

  it('c: early returns: every release goes', () => {
    const input = `async function f(m: Mutex, x: boolean) {
  let g = await m.acquire();
  if (x) {
    g.release();
    return;
  }
  if (g.held) work();
  g.release();
}
`;
    assert.equal(
      usingAt(input, 'let g'),
      `async function f(m: Mutex, x: boolean) {
  using g = await m.acquire();
  if (x) {
    return;
  }
  if (g.held) work();
}
`,
    );
  });

  it('c: releases on both branches, before a return of a plain value and before a throw', () => {
    const input = `async function f(m: Mutex) {
  const g = await m.acquire();
  if (!ok) {
    g.release();
    throw new Error('not ok');
  } else if (cached) {
    g.release();
    return cached;
  } else {
    compute();
    g.release();
  }
}
`;
    assert.equal(
      usingAt(input, 'const g'),
      `async function f(m: Mutex) {
  using g = await m.acquire();
  if (!ok) {
    throw new Error('not ok');
  } else if (cached) {
    return cached;
  } else {
    compute();
  }
}
`,
    );
  });

  it('c: break and continue that leave a loop body', () => {
    const input = `async function f(m: Mutex) {
  for (const job of jobs) {
    const g = await m.acquire();
    if (job.skip) {
      g.release();
      continue;
    }
    if (job.last) {
      g.release();
      break;
    }
    run(job);
    g.release();
  }
}
`;
    assert.equal(
      usingAt(input, 'const g'),
      `async function f(m: Mutex) {
  for (const job of jobs) {
    using g = await m.acquire();
    if (job.skip) {
      continue;
    }
    if (job.last) {
      break;
    }
    run(job);
  }
}
`,
    );
  });

  it('d: nested locks with try/finally, both converted at once by a selection, order kept', () => {
    const input = `async function f(a: Mutex, b: Mutex) {
  const ga = await a.acquire();
  try {
    const gb = await b.acquire();
    try {
      work();
    } finally {
      gb.release();
    }
  } finally {
    ga.release();
  }
}
`;
    const expected = `async function f(a: Mutex, b: Mutex) {
  using ga = await a.acquire();
  using gb = await b.acquire();
  work();
}
`;
    assert.equal(applied(input, convertToUsing(input, 'file.ts', 0, input.length)), expected);
    // One at a time, outer first, gives the same text.
    const outer = usingAt(input, 'const ga');
    assert.equal(usingAt(outer, 'const gb'), expected);
  });

  it('d: nested straight-line locks released in reverse order', () => {
    const input = `async function f(a: Mutex, b: Mutex) {
  const ga = await a.acquire();
  const gb = await b.acquire();
  work();
  gb.release();
  ga.release();
}
`;
    assert.equal(
      applied(input, convertToUsing(input, 'file.ts', 0, input.length)),
      `async function f(a: Mutex, b: Mutex) {
  using ga = await a.acquire();
  using gb = await b.acquire();
  work();
}
`,
    );
  });

  it('e: comments inside and around the block stay where they were', () => {
    const input = `async function f(m: Mutex) {
  // Take the account lock first.
  const g = await m.acquire(); // never in a loop
  try {
    /* the critical section */
    await work(); // may be slow
    // done
  } finally {
    // always give the lock back
    g.release(); // released
  }
  // after
}
`;
    assert.equal(
      usingAt(input, 'const g'),
      `async function f(m: Mutex) {
  // Take the account lock first.
  using g = await m.acquire(); // never in a loop
  /* the critical section */
  await work(); // may be slow
  // done
  // always give the lock back
  // released
  // after
}
`,
    );
  });

  it('f: runExclusive as a statement becomes a block that starts with a using declaration', () => {
    const input = `async function f(m: Mutex) {
  await m.runExclusive(async () => {
    // the critical section
    await work();
  });
  after();
}
`;
    assert.equal(
      usingAt(input, 'runExclusive'),
      `async function f(m: Mutex) {
  {
    using guard = await m.acquire();
    // the critical section
    await work();
  }
  after();
}
`,
    );
  });

  it('f: runExclusive keeps its options, its one-line body and the file without semicolons', () => {
    const input = `async function f(m: Mutex) {
  await m.runExclusive(() => { count++ }, { timeout: 10 })
  const guard = 1
  await this.lock.runExclusive(async () => {
    use(guard)
  })
}
`;
    const once = usingAt(input, 'm.runExclusive');
    assert.equal(
      once,
      `async function f(m: Mutex) {
  { using guard = await m.acquire({ timeout: 10 }); count++ }
  const guard = 1
  await this.lock.runExclusive(async () => {
    use(guard)
  })
}
`,
    );
    assert.equal(
      usingAt(once, 'this.lock'),
      `async function f(m: Mutex) {
  { using guard = await m.acquire({ timeout: 10 }); count++ }
  const guard = 1
  {
    using guard2 = await this.lock.acquire()
    use(guard)
  }
}
`,
    );
  });

  it('f: runExclusive is declined when its value is used, it returns, or it is not awaited', () => {
    declines(`const x = await m.runExclusive(async () => { return 1; });\n`, 'runExclusive');
    declines(`await m.runExclusive(async () => { if (a) return; work(); });\n`, 'runExclusive');
    declines(`await m.runExclusive(async () => work());\n`, 'runExclusive');
    declines(`await m.runExclusive(async (x) => { work(x); });\n`, 'runExclusive');
    declines(`void m.runExclusive(async () => { work(); });\n`, 'runExclusive');
    declines(`await m.runExclusive(async () => {\n  work();\n});\n`, 'work');
  });

  it('f: in a file without semicolons, a body line that would continue the expression gets one', () => {
    const input = `await m.runExclusive(async () => {\n  ;[a, b] = [b, a]\n})\nawait m.runExclusive(async () => {\n  [a, b] = [b, a]\n})\n`;
    assert.equal(
      applied(input, convertToUsing(input, 'file.ts', 0, input.length)),
      `{\n  using guard = await m.acquire()\n  ;[a, b] = [b, a]\n}\n{\n  using guard = await m.acquire();\n  [a, b] = [b, a]\n}\n`,
    );
  });

  it('g: an awaited release makes it await using', () => {
    const input = `async function f(pool: Pool) {
  const conn = await pool.acquire();
  try {
    await conn.query('select 1');
  } finally {
    await conn.release();
  }
}
`;
    assert.equal(
      usingAt(input, 'const conn'),
      `async function f(pool: Pool) {
  await using conn = await pool.acquire();
  await conn.query('select 1');
}
`,
    );
  });

  it('a release followed by more work wraps the held part in a block', () => {
    const input = `async function f(rw: RWLock) {
  const r = await rw.read();
  const copy = [...items];
  r.release();
  render();
}
`;
    assert.equal(
      usingAt(input, 'const r'),
      `async function f(rw: RWLock) {
  {
    using r = await rw.read();
    const copy = [...items];
  }
  render();
}
`,
    );
  });

  it('a release before a return that computes something wraps too', () => {
    const input = `async function f(m: Mutex) {
  const g = await m.acquire();
  counter++;
  g.release();
  return expensive();
}
`;
    assert.equal(
      usingAt(input, 'const g'),
      `async function f(m: Mutex) {
  {
    using g = await m.acquire();
    counter++;
  }
  return expensive();
}
`,
    );
  });

  it('write(), acquireSync(), tabs and CRLF line endings', () => {
    const input =
      'function f(shared: SharedMutex) {\r\n\tconst g = shared.acquireSync();\r\n\ttry {\r\n\t\twork();\r\n\t} finally {\r\n\t\tg.release();\r\n\t}\r\n}\r\n';
    assert.equal(
      usingAt(input, 'const g'),
      'function f(shared: SharedMutex) {\r\n\tusing g = shared.acquireSync();\r\n\twork();\r\n}\r\n',
    );
    const writer = `async function f(rw: RWLock) {\n  const w = await rw.write();\n  w.release();\n}\n`;
    assert.equal(
      usingAt(writer, 'const w'),
      `async function f(rw: RWLock) {\n  using w = await rw.write();\n}\n`,
    );
  });

  it('a guard that is never released is given a using declaration', () => {
    assert.equal(
      usingAt(
        `async function f(m: Mutex) {\n  const g = await m.acquire();\n  work();\n}\n`,
        'const g',
      ),
      `async function f(m: Mutex) {\n  using g = await m.acquire();\n  work();\n}\n`,
    );
  });

  it('h: declined when the guard escapes or is released elsewhere', () => {
    const cases = [
      // Released in a closure.
      `async function f(m: Mutex) {\n  const g = await m.acquire();\n  setTimeout(() => g.release(), 10);\n}\n`,
      // Returned.
      `async function f(m: Mutex) {\n  const g = await m.acquire();\n  return g;\n}\n`,
      // Passed to a call.
      `async function f(m: Mutex) {\n  const g = await m.acquire();\n  keep(g);\n  g.release();\n}\n`,
      // Stored.
      `async function f(m: Mutex) {\n  const g = await m.acquire();\n  this.held = { g };\n}\n`,
      // Reassigned.
      `async function f(m: Mutex) {\n  let g = await m.acquire();\n  g.release();\n  g = await m.acquire();\n  g.release();\n}\n`,
      // A release inside an expression.
      `async function f(m: Mutex) {\n  const g = await m.acquire();\n  ok && g.release();\n}\n`,
      // A release as the body of an if without braces.
      `async function f(m: Mutex) {\n  const g = await m.acquire();\n  if (x) g.release();\n  else g.release();\n}\n`,
      // var is function-scoped.
      `async function f(m: Mutex) {\n  var g = await m.acquire();\n  g.release();\n}\n`,
      // tryAcquire may return undefined.
      `function f(m: Mutex) {\n  const g = m.tryAcquire();\n  g?.release();\n}\n`,
      // Work after a release inside a branch.
      `async function f(m: Mutex) {\n  const g = await m.acquire();\n  if (x) {\n    g.release();\n    log();\n    return;\n  }\n  g.release();\n}\n`,
      // The wrapped part declares a name used after it.
      `async function f(m: Mutex) {\n  const g = await m.acquire();\n  const v = read();\n  g.release();\n  use(v);\n}\n`,
      // Already using.
      `async function f(m: Mutex) {\n  using g = await m.acquire();\n}\n`,
    ];
    for (const input of cases) {
      assert.equal(convertToUsing(input, 'file.ts', input.indexOf('g = ')), undefined, input);
    }
  });

  it('an inner variable with the guard name is a different variable', () => {
    const input = `async function f(m: Mutex) {
  const g = await m.acquire();
  items.forEach((g) => keep(g));
  g.release();
}
`;
    assert.equal(
      usingAt(input, 'const g'),
      `async function f(m: Mutex) {
  using g = await m.acquire();
  items.forEach((g) => keep(g));
}
`,
    );
  });
});

describe('add a timeout', () => {
  const timeout = (text: string, needle: string, ms?: number): string =>
    applied(text, addTimeout(text, 'file.ts', at(text, needle), ms));

  it('adds an options object to a call without arguments', () => {
    assert.equal(
      timeout('using g = await m.acquire();\n', 'acquire'),
      'using g = await m.acquire({ timeout: 1000 });\n',
    );
    assert.equal(
      timeout('using g = await m.acquire();\n', 'using', 250),
      'using g = await m.acquire({ timeout: 250 });\n',
    );
  });

  it('adds the property to existing options, in their layout', () => {
    assert.equal(
      timeout('await m.acquire({ signal });\n', 'acquire'),
      'await m.acquire({ signal, timeout: 1000 });\n',
    );
    assert.equal(
      timeout('await m.acquire({});\n', 'acquire'),
      'await m.acquire({ timeout: 1000 });\n',
    );
    assert.equal(
      timeout('await m.acquire({\n  signal,\n});\n', 'acquire'),
      'await m.acquire({\n  signal,\n  timeout: 1000,\n});\n',
    );
    assert.equal(
      timeout('await m.acquire({\n  signal\n})\n', 'acquire'),
      'await m.acquire({\n  signal,\n  timeout: 1000\n})\n',
    );
  });

  it('covers read, write, wait, join, recv, send and acquireSync', () => {
    assert.equal(timeout('await rw.read();\n', 'read'), 'await rw.read({ timeout: 1000 });\n');
    assert.equal(timeout('await rw.write();\n', 'write'), 'await rw.write({ timeout: 1000 });\n');
    assert.equal(timeout('await cond.wait();\n', '.wait'), 'await cond.wait({ timeout: 1000 });\n');
    assert.equal(timeout('await task.join();\n', 'join'), 'await task.join({ timeout: 1000 });\n');
    assert.equal(
      timeout('const r = await ch.recv();\n', 'recv'),
      'const r = await ch.recv({ timeout: 1000 });\n',
    );
    assert.equal(
      timeout("await ch.send('job');\n", 'send'),
      "await ch.send('job', { timeout: 1000 });\n",
    );
    assert.equal(
      timeout('await ch.send(v, { signal });\n', 'send'),
      'await ch.send(v, { signal, timeout: 1000 });\n',
    );
    assert.equal(
      timeout('using g = m.acquireSync();\n', 'acquireSync'),
      'using g = m.acquireSync({ timeout: 1000 });\n',
    );
  });

  it('is declined when a timeout is there, or the argument is not an options object', () => {
    const none = (text: string, needle: string): void =>
      assert.equal(addTimeout(text, 'file.ts', at(text, needle)), undefined);
    none('await m.acquire({ timeout: 5 });\n', 'acquire');
    none('await m.acquire({ signal, timeout });\n', 'acquire');
    none('stream.write(buffer);\n', 'write');
    none('await m.acquire(options);\n', 'acquire');
    none('await ch.send();\n', 'send');
    none('m.tryAcquire();\n', 'tryAcquire');
  });
});

describe('reorder two acquisitions', () => {
  const input = `async function dine(this: Philosopher) {
  using right = await this.right.acquire();
  log('took the right fork');
  using left = await this.left.acquire();
  eat();
}
`;
  const expected = `async function dine(this: Philosopher) {
  using left = await this.left.acquire();
  log('took the right fork');
  using right = await this.right.acquire();
  eat();
}
`;

  it('swaps the two statements so that the recommended lock comes first', () => {
    const reorder = (needle: string, first: string): string =>
      applied(input, reorderAcquisitions(input, 'file.ts', at(input, needle), first));
    assert.equal(reorder('using right', 'this.left'), expected);
    assert.equal(reorder('using left', 'left'), expected);
    assert.equal(reorder('this.left', 'this . left'), expected);
  });

  it('is declined when the order is already right or the lock is not one of the two', () => {
    assert.equal(
      reorderAcquisitions(expected, 'file.ts', at(expected, 'using left'), 'left'),
      undefined,
    );
    assert.equal(
      reorderAcquisitions(input, 'file.ts', at(input, 'using right'), 'spoon'),
      undefined,
    );
  });

  it('is declined when statements between use the first guard, or it uses what they declare', () => {
    const uses = `async function f() {
  const a = await x.acquire();
  a.note = 'held';
  const b = await y.acquire();
}
`;
    assert.equal(reorderAcquisitions(uses, 'file.ts', at(uses, 'const a'), 'y'), undefined);
    const declares = `async function f() {
  using a = await x.acquire();
  const y = pick();
  using b = await y.acquire();
}
`;
    assert.equal(reorderAcquisitions(declares, 'file.ts', at(declares, 'using a'), 'y'), undefined);
  });
});

describe('suppress a finding', () => {
  it('inserts a comment above the line, with its indentation and line ending', () => {
    const input = 'function f() {\n    using b = await y.acquire();\n}\n';
    assert.equal(
      applied(input, suppressFinding(input, 1, 'lock-order-inversion')),
      'function f() {\n    // lockscope-ignore lock-order-inversion: reason\n    using b = await y.acquire();\n}\n',
    );
    const crlf = 'a();\r\n\tb();\r\n';
    assert.equal(
      applied(crlf, suppressFinding(crlf, 1, 'deadlock', 'rare')),
      'a();\r\n\t// lockscope-ignore deadlock: rare\r\n\tb();\r\n',
    );
    assert.equal(suppressFinding(input, 9, 'deadlock'), undefined);
    assert.equal(suppressFinding(input, 1, 'not a kind'), undefined);
  });

  it('isSuppressed reads the comment on the line or the comment lines above', () => {
    const text = [
      '// lockscope-ignore deadlock: known',
      'a();',
      'b(); // lockscope-ignore long-hold',
      '// lockscope-ignore starvation, livelock: fine',
      '// another comment',
      'c();',
      '// lockscope-ignore',
      'd();',
      '// lockscope-ignore deadlock: blank line below',
      '',
      'e();',
      "f('// lockscope-ignore deadlock');",
      '/* lockscope-ignore misuse */ g();',
    ].join('\n');
    assert.equal(isSuppressed(text, 1, 'deadlock'), true);
    assert.equal(isSuppressed(text, 1, 'long-hold'), false);
    assert.equal(isSuppressed(text, 2, 'long-hold'), true);
    assert.equal(isSuppressed(text, 2, 'deadlock'), false);
    assert.equal(isSuppressed(text, 5, 'livelock'), true);
    assert.equal(isSuppressed(text, 5, 'starvation'), true);
    assert.equal(isSuppressed(text, 5, 'deadlock'), false);
    assert.equal(isSuppressed(text, 7, 'anything'), true);
    assert.equal(isSuppressed(text, 10, 'deadlock'), false);
    assert.equal(isSuppressed(text, 11, 'deadlock'), false);
    assert.equal(isSuppressed(text, 12, 'misuse'), true);
    assert.equal(isSuppressed(text, 99, 'deadlock'), false);
  });

  it('a suppression it inserted is honoured', () => {
    const input = 'x();\n  using b = await y.acquire();\n';
    const output = applied(input, suppressFinding(input, 1, 'deadlock'));
    assert.equal(isSuppressed(output, 2, 'deadlock'), true);
    assert.equal(isSuppressed(input, 1, 'deadlock'), false);
  });
});

describe('findUnreleased', () => {
  /** The guard names and kinds reported, as `name:kind`. */
  const found = (text: string): string[] =>
    findUnreleased(text, 'file.ts').map((f) => `${f.guard}:${f.kind}`);

  it('reports an early return before the release, with the range of the acquisition', () => {
    const text = `async function f(m: Mutex) {
  const g = await m.acquire();
  if (x) return;
  g.release();
}
`;
    const [result, ...more] = findUnreleased(text, 'file.ts');
    assert.equal(more.length, 0);
    assert.deepEqual(result, {
      start: at(text, 'const g'),
      end: at(text, 'const g') + 'const g = await m.acquire();'.length,
      guard: 'g',
      kind: 'not-released',
      message:
        "The lock guard 'g' is not released on every path: it is still held at the return on line 3. Declare it with 'using' so that it is released on every path.",
    });
  });

  it('reports explicit exits and branch-only releases', () => {
    const positives: [string, string][] = [
      [
        'branch only',
        `async function f(m: Mutex) {\n  const g = await m.acquire();\n  if (x) {\n    g.release();\n  }\n}\n`,
      ],
      [
        'a throw',
        `async function f(m: Mutex) {\n  let g = await m.acquire();\n  if (bad) throw new Error('bad');\n  g.release();\n}\n`,
      ],
      ['never', `async function f(m: Mutex) {\n  const g = await m.acquire();\n  work();\n}\n`],
      [
        'continue',
        `async function f(m: Mutex) {\n  for (const j of jobs) {\n    const g = await m.acquire();\n    if (j.skip) continue;\n    g.release();\n  }\n}\n`,
      ],
      [
        'break',
        `async function f(m: Mutex) {\n  while (true) {\n    const g = await m.read();\n    if (done) break;\n    g.release();\n  }\n}\n`,
      ],
      [
        'switch without default',
        `async function f(m: Mutex) {\n  const g = await m.acquire();\n  switch (k) {\n    case 1:\n      g.release();\n      break;\n  }\n}\n`,
      ],
      [
        'release in loop body only',
        `async function f(m: Mutex) {\n  const g = await m.acquire();\n  for (const x of xs) {\n    g.release();\n  }\n}\n`,
      ],
      [
        'catch returns',
        `async function f(m: Mutex) {\n  const g = m.acquireSync();\n  try {\n    if (x) throw new Error();\n  } catch {\n    return;\n  }\n  g.release();\n}\n`,
      ],
    ];
    for (const [name, text] of positives) assert.deepEqual(found(text), ['g:not-released'], name);
  });

  it('describes where the guard is still held', () => {
    const messageOf = (text: string): string => findUnreleased(text, 'file.ts')[0]?.message ?? '';
    assert.match(
      messageOf(
        `async function f(m: Mutex) {\n  const g = await m.acquire();\n  if (x) {\n    g.release();\n  }\n}\n`,
      ),
      /still held when its block ends on line 6\./,
    );
    assert.match(
      messageOf(`async function f(m: Mutex) {\n  const g = await m.acquire();\n}\n`),
      /^The lock guard 'g' is never released\./,
    );
    assert.match(
      messageOf(
        `async function f(m: Mutex) {\n  for (;;) {\n    const g = await m.acquire();\n    if (x) continue;\n    g.release();\n  }\n}\n`,
      ),
      /at the continue on line 4\./,
    );
  });

  it('reports a release that is skipped when something between throws, with a softer message', () => {
    const text = `async function f(m: Mutex) {
  const g = await m.acquire();
  await save();
  g.release();
}
`;
    const [result] = findUnreleased(text, 'file.ts');
    assert.equal(result?.kind, 'released-only-if-nothing-throws');
    assert.equal(
      result?.message,
      "The lock guard 'g' is released only if nothing throws: if line 3 throws, the lock stays held. Release it in a 'finally' block, or declare it with 'using'.",
    );
    const beforeTry = `async function f(m: Mutex) {\n  const g = await m.acquire();\n  const x = compute();\n  try {\n    use(x);\n  } finally {\n    g.release();\n  }\n}\n`;
    assert.deepEqual(found(beforeTry), ['g:released-only-if-nothing-throws']);
  });

  it('does not report guards released on every path, using declarations or escaping guards', () => {
    const negatives: [string, string][] = [
      [
        'using',
        `async function f(m: Mutex) {\n  using g = await m.acquire();\n  if (x) return;\n  await work();\n}\n`,
      ],
      [
        'await using',
        `async function f(m: Mutex) {\n  await using g = await m.acquire();\n  await work();\n}\n`,
      ],
      [
        'try/finally',
        `async function f(m: Mutex) {\n  const g = await m.acquire();\n  try {\n    if (x) return 1;\n    await work();\n  } finally {\n    g.release();\n  }\n}\n`,
      ],
      [
        'all branches',
        `async function f(m: Mutex) {\n  const g = await m.acquire();\n  if (x) {\n    g.release();\n    return;\n  } else {\n    g.release();\n  }\n}\n`,
      ],
      [
        'switch with default',
        `async function f(m: Mutex) {\n  const g = await m.acquire();\n  switch (k) {\n    case 1:\n      g.release();\n      break;\n    default:\n      g.release();\n  }\n}\n`,
      ],
      [
        'released then loop',
        `async function f(m: Mutex) {\n  for (;;) {\n    const g = await m.acquire();\n    if (done) {\n      g.release();\n      break;\n    }\n    g.release();\n  }\n}\n`,
      ],
      [
        'nothing may throw',
        `async function f(m: Mutex) {\n  const g = await m.acquire();\n  count++;\n  g.release();\n}\n`,
      ],
      [
        'returned',
        `async function f(m: Mutex) {\n  const g = await m.acquire();\n  return g;\n}\n`,
      ],
      [
        'released in a closure',
        `async function f(m: Mutex) {\n  const g = await m.acquire();\n  queueMicrotask(() => g.release());\n}\n`,
      ],
      [
        'labeled break after release',
        `async function f(m: Mutex) {\n  outer: for (const a of as) {\n    for (const b of bs) {\n      const g = await m.acquire();\n      g.release();\n      if (b) break outer;\n    }\n  }\n}\n`,
      ],
      [
        'async-mutex style release function',
        `async function f(m: Mutex) {\n  const release = await m.acquire();\n  release();\n}\n`,
      ],
      [
        'rethrow after release in catch',
        `async function f(m: Mutex) {\n  const g = await m.acquire();\n  try {\n    count++;\n  } catch (e) {\n    g.release();\n    throw e;\n  }\n  g.release();\n}\n`,
      ],
    ];
    for (const [name, text] of negatives) assert.deepEqual(found(text), [], name);
  });

  it('reads TSX files', () => {
    const text = `async function render(m: Mutex) {
  const g = await m.acquire();
  if (!ready) return <Spinner />;
  g.release();
  return <View />;
}
`;
    assert.deepEqual(
      findUnreleased(text, 'view.tsx').map((f) => f.kind),
      ['not-released'],
    );
    assert.equal(
      applied(text, convertToUsing(text, 'view.tsx', at(text, 'const g')), 'view.tsx').split(
        '\n',
      )[1],
      '  using g = await m.acquire();',
    );
  });

  it('checks every acquisition of a file, nested ones included', () => {
    const text = `async function f(a: Mutex, b: Mutex) {
  const ga = await a.acquire();
  try {
    const gb = await b.acquire();
    if (x) return;
    gb.release();
  } finally {
    ga.release();
  }
}
`;
    assert.deepEqual(found(text), ['gb:not-released']);
  });
});
