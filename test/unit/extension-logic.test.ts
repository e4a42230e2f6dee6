// The extension's pure logic on plain Node: diagnostics from findings, launch plans, and the
// validation of messages between the host and the graph webview.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planRun, withLockscope } from '../../extension/src/launch.js';
import {
  diagnosticsFor,
  hoverMarkdown,
  lensText,
  siteKeyPlace,
  statusText,
} from '../../extension/src/presenter.js';
import { analyzeTrace } from '../../runtime-probe/src/analysis/trace.js';
import { parseToHost, parseToWebview } from '../../webview/src/protocol.js';
import { FILE, oppositeOrders, twoLockDeadlock } from '../trace-builder.js';

function deadlock() {
  return analyzeTrace(twoLockDeadlock().text()).report();
}

describe('diagnostics', () => {
  test('a deadlock is shown on each waiting line, with every other end as related information', () => {
    const specs = diagnosticsFor(deadlock().findings).get(FILE)!;
    assert.deepEqual(
      specs.map((s) => s.line + 1),
      [11, 13],
    );
    const [first] = specs;
    assert.equal(first?.severity, 'error');
    assert.equal(first.code, 'deadlock');
    assert.match(
      first.message,
      /^Deadlock: 2 tasks wait for each other in a cycle\. alice waits for b\./,
    );
    assert.deepEqual(
      first.related.map((r) => [r.line + 1, r.message]),
      [
        [12, 'bob acquired b'],
        [13, 'bob waits for a'],
        [10, 'alice acquired a'],
      ],
    );
    assert.equal(first.inline, '⛔ alice waits for b');
  });

  test('an inversion is shown at both inner acquisitions; an abandoned lock at its acquisition', () => {
    const b = oppositeOrders().ev(6, 'task-end', 2, undefined, undefined, 1);
    const specs = diagnosticsFor(analyzeTrace(b.text()).findings).get(FILE)!;
    assert.deepEqual(
      specs.map((s) => [s.code, s.line + 1]),
      [
        // Where bob took a while holding b, and where alice took b while holding a.
        ['lock-order-inversion', 13],
        ['lock-order-inversion', 11],
        // bob threw holding both locks: each is shown where it was acquired.
        ['abandoned-lock', 12],
        ['abandoned-lock', 13],
      ],
    );
  });

  test('hover, CodeLens and status texts', () => {
    const r = deadlock();
    assert.match(
      hoverMarkdown(r.findings[0]!),
      /\*\*Lockscope: Deadlock: 2 tasks wait for each other in a cycle\*\*/,
    );
    assert.match(
      hoverMarkdown(r.findings[0]!),
      /- alice waits for b \(line 11\), acquired at line 12/,
    );
    const a = r.stats.resources.find((s) => s.name === 'a')!;
    assert.equal(lensText(a), '$(lock) 1 acquisition, 0 contended · wait p99 0 µs · hold p99 0 µs');
    assert.deepEqual(siteKeyPlace('/x/y.ts:3:7'), { file: '/x/y.ts', line: 2, column: 6 });
    assert.equal(siteKeyPlace('nonsense'), undefined);
    assert.equal(statusText(1, r.findings), '$(lock) Lockscope · 1 process · $(error) 1');
  });
});

describe('diagnostics decide on codes, never on words', () => {
  test('locks named like the analysis’s phrases do not move any diagnostic', () => {
    // The same inversion as above, with lock names that contain the phrases a presenter that
    // read the text would have matched.
    const b = oppositeOrders(2, ['x then takes y', 'waits on']);
    const specs = diagnosticsFor(analyzeTrace(b.text()).findings).get(FILE)!;
    assert.deepEqual(
      specs.map((s) => [s.code, s.line + 1]),
      [
        ['lock-order-inversion', 13],
        ['lock-order-inversion', 11],
      ],
    );
  });
});

describe('launch plans', () => {
  const env = { LOCKSCOPE_ENDPOINT: '/tmp/s', LOCKSCOPE_TOKEN: 't' };
  test('TypeScript runs with the project’s tsx, or else the extension’s loader', () => {
    const base = {
      nodePath: 'node',
      sessionEnv: env,
      tsLoader: '/ext/dist/extension/ts-register.mjs',
    };
    assert.deepEqual(planRun({ ...base, file: '/w/app.ts', cwd: '/w' }), {
      command: 'node',
      args: [
        '--enable-source-maps',
        '--import',
        'file:///ext/dist/extension/ts-register.mjs',
        '/w/app.ts',
      ],
      // The loader in NODE_OPTIONS too, for the program's TypeScript children.
      env: {
        ...env,
        NODE_OPTIONS: '--import file:///ext/dist/extension/ts-register.mjs',
        LOCKSCOPE_NODE_OPTIONS: '--import file:///ext/dist/extension/ts-register.mjs',
      },
      cwd: '/w',
    });
    const kept = planRun({ ...base, file: '/w/app.ts', nodeOptions: '--no-warnings' });
    assert.equal(
      kept.env.NODE_OPTIONS,
      '--no-warnings --import file:///ext/dist/extension/ts-register.mjs',
    );
    const withTsx = planRun({
      ...base,
      file: '/w/app.ts',
      tsx: '/w/node_modules/tsx/dist/loader.mjs',
    });
    assert.equal(withTsx.args[2], 'file:///w/node_modules/tsx/dist/loader.mjs');
    assert.equal(withTsx.cwd, '/w');
    // With tsx, the project's lockscope hook lets an entry with top-level await run as ESM.
    const withHook = planRun({
      ...base,
      file: '/w/app.ts',
      tsx: '/w/node_modules/tsx/dist/loader.mjs',
      esmEntry: '/w/node_modules/lockscope/dist/esm-entry.mjs',
    });
    assert.deepEqual(withHook.args.slice(1, 5), [
      '--import',
      'file:///w/node_modules/tsx/dist/loader.mjs',
      '--import',
      'file:///w/node_modules/lockscope/dist/esm-entry.mjs',
    ]);
    assert.deepEqual(planRun({ ...base, file: '/w/app.mjs', args: ['x'] }).args, [
      '--enable-source-maps',
      '/w/app.mjs',
      'x',
    ]);
    // JavaScript needs no loader: the environment is the session's alone.
    assert.deepEqual(planRun({ ...base, file: '/w/app.mjs' }).env, env);
  });

  test('a launch configuration with "lockscope": true gets the session and the loader', () => {
    const config = {
      type: 'node',
      request: 'launch',
      program: '/w/app.ts',
      env: { A: '1' },
      lockscope: true,
    };
    const out = withLockscope(config, env, '/ext/l.mjs');
    assert.deepEqual(out.env, { A: '1', ...env });
    assert.deepEqual(out.runtimeArgs, ['--import', 'file:///ext/l.mjs']);
    const odd = withLockscope({ ...config, runtimeArgs: '--inspect' }, env, '/ext/a b#c.mjs');
    assert.deepEqual(odd.runtimeArgs, ['--import', 'file:///ext/a%20b%23c.mjs']);
    const tsx = withLockscope({ ...config, runtimeArgs: ['--import', 'tsx'] }, env, '/ext/l.mjs');
    assert.deepEqual(tsx.runtimeArgs, ['--import', 'tsx']);
  });
});

describe('webview messages', () => {
  test('commands from the webview are validated', () => {
    assert.deepEqual(parseToHost({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parseToHost({ type: 'openSource', file: '/a.ts', line: 3 }), {
      type: 'openSource',
      file: '/a.ts',
      line: 3,
    });
    assert.match(
      parseToHost({ type: 'openSource', file: '/a.ts', line: 0 }) as string,
      /line must be/,
    );
    assert.match(parseToHost({ type: 'openSource', file: 7, line: 1 }) as string, /file must be/);
    assert.match(parseToHost({ type: 'eval', code: '1' }) as string, /unknown message type "eval"/);
    assert.match(parseToHost(null) as string, /must be an object/);
  });

  test('notifications to the webview are validated', () => {
    const report = deadlock();
    assert.equal(
      (parseToWebview({ type: 'didReport', report, live: true }) as { live: boolean }).live,
      true,
    );
    assert.match(
      parseToWebview({ type: 'didReport', report: { version: 2 } }) as string,
      /version 1/,
    );
  });
});
