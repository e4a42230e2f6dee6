// The `lockscope` command line end to end, as a user runs it: exit statuses, outputs, and the
// messages for a missing file, a program that fails to load and a file that is not a trace.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Report } from '../../runtime-probe/src/analysis/types.js';
import { twoLockDeadlock, twoLocks } from '../trace-builder.js';
import { runLockscope, type CliResult } from './run-program.js';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'lockscope-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function lockscope(...args: string[]): Promise<CliResult> {
  return runLockscope(args);
}

function deadlockTrace(): string {
  const file = join(dir, 'deadlock.jsonl');
  writeFileSync(file, twoLockDeadlock().text());
  return file;
}

describe('lockscope report', () => {
  test('a trace with a deadlock: the report, exit status 1', async () => {
    const r = await lockscope('report', deadlockTrace());
    assert.equal(r.code, 1);
    assert.match(r.stdout, /✖ deadlock {2}Deadlock: 2 tasks wait for each other in a cycle/);
    assert.match(r.stdout, /alice waits for b, held by bob/);
  });

  test('--json prints the versioned report with the fields every finding has', async () => {
    const r = await lockscope('report', '--json', deadlockTrace());
    const report = JSON.parse(r.stdout) as Report;
    assert.equal(report.version, 1);
    const [f] = report.findings;
    assert.equal(f?.kind, 'deadlock');
    assert.equal(f.severity, 'error');
    assert.equal(typeof f.message, 'string');
    assert.deepEqual(
      f.tasks.map((t) => t.name),
      ['alice', 'bob'],
    );
    assert.deepEqual(
      f.resources.map((x) => [x.name, x.kind]),
      [
        ['b', 'mutex'],
        ['a', 'mutex'],
      ],
    );
    assert.deepEqual(Object.keys(f.sites[0]!).slice(0, 3), ['file', 'line', 'column']);
  });

  test('--fail-on chooses the kinds that fail the run', async () => {
    assert.equal((await lockscope('report', '--fail-on', 'livelock', deadlockTrace())).code, 0);
    assert.equal((await lockscope('report', '--fail-on', 'none', deadlockTrace())).code, 0);
    assert.equal((await lockscope('report', '--fail-on', 'deadlock', deadlockTrace())).code, 1);
    const bad = await lockscope('report', '--fail-on', 'deadlocks', deadlockTrace());
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown finding kind "deadlocks"/);
  });

  test('writes SARIF, a Chrome trace and an HTML page', async () => {
    const [sarif, trace, html] = ['out.sarif', 'out.json', 'out.html'].map((f) => join(dir, f));
    const r = await lockscope(
      'report',
      deadlockTrace(),
      '--sarif',
      sarif!,
      '--trace',
      trace!,
      '--html',
      html!,
    );
    assert.equal(r.code, 1);
    assert.equal(
      (JSON.parse(readFileSync(sarif!, 'utf8')) as { version: string }).version,
      '2.1.0',
    );
    assert.ok(
      Array.isArray(
        (JSON.parse(readFileSync(trace!, 'utf8')) as { traceEvents: unknown[] }).traceEvents,
      ),
    );
    const page = readFileSync(html!, 'utf8');
    assert.match(page, /<script type="application\/json" id="lockscope-report">/);
    assert.match(r.stdout, /HTML report written to/);
  });

  test('a deadlock found after events were lost: exit status 3, and why', async () => {
    // The stream said it lost events before the cycle closed: the cycle may be an artefact.
    const b = twoLocks().ev(0, 'acquired', 1, 11, 10).ev(1, 'acquired', 2, 12, 12);
    b.messages.push({ t: 'heartbeat', ts: b.origin + 0.002, produced: 10, dropped: 6 });
    b.ev(3, 'request', 1, 12, 11).ev(4, 'request', 2, 11, 13);
    const file = join(dir, 'gap.jsonl');
    writeFileSync(file, b.text());
    const r = await lockscope('report', file);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /inconclusive: 6 events were lost/);
    assert.match(r.stdout, /uncertain: .*events were lost before this was found/);
  });

  test('report and events agree on a trace whose last line was cut short', async () => {
    const cut = join(dir, 'cut.jsonl');
    writeFileSync(cut, twoLockDeadlock().text() + '{"t":"events","thr');
    const r = await lockscope('report', cut);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /Deadlock/);
    const e = await lockscope('events', cut);
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stdout, /the last line was cut short/);
    // A bad line anywhere else is still refused.
    const bad = join(dir, 'bad-middle.jsonl');
    writeFileSync(bad, '{"t":"events","thr\n' + twoLockDeadlock().text());
    assert.equal((await lockscope('events', bad)).code, 2);
  });

  test('a file that is not a trace, a missing file, an empty file: exit status 2 and why', async () => {
    const notTrace = join(dir, 'notes.txt');
    writeFileSync(notTrace, 'hello world\n');
    const a = await lockscope('report', notTrace);
    assert.equal(a.code, 2);
    assert.match(a.stderr, /notes\.txt is not a valid Lockscope trace: line 1: /);
    const b = await lockscope('report', join(dir, 'nope.jsonl'));
    assert.equal(b.code, 2);
    assert.match(b.stderr, /cannot read the trace .*nope\.jsonl: no such file/);
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    assert.match((await lockscope('report', empty)).stderr, /empty: a trace starts with a hello/);
  });

  test('usage errors: exit status 2 with the usage', async () => {
    for (const args of [
      [],
      ['frobnicate'],
      ['report'],
      ['report', 'a', 'b'],
      ['run', '--bogus', 'x'],
    ]) {
      const r = await lockscope(...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /Usage:/);
    }
    assert.match(
      (await lockscope('report', '--timeout', 'soon', 'x')).stderr,
      /--timeout must be a positive number/,
    );
    assert.equal((await lockscope('--help')).code, 0);
  });

  test('an output file that cannot be written is refused before the program runs', async () => {
    const missing = join(dir, 'no-such-folder', 'report.html');
    const r = await lockscope('run', '--html', missing, 'examples/dining-philosophers.ts');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--html .*does not exist or cannot be written/);
    // The program never ran: its report would name the philosophers.
    assert.doesNotMatch(r.stderr + r.stdout, /Philosopher/);
    const folder = await lockscope('run', '--sarif', dir, 'examples/dining-philosophers.ts');
    assert.equal(folder.code, 2);
    assert.match(folder.stderr, /--sarif .*that is a folder/);
  });
});

describe('lockscope run', () => {
  test('a clean program: exit status 0, its output kept', async () => {
    const r = await lockscope('run', 'examples/semaphore-pool.ts');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /✔ no findings/);
    assert.match(r.stdout, /at most 3 at once/);
  });

  test('a deadlocked program is stopped and reported; --json keeps stdout for the report', async () => {
    const r = await lockscope('run', '--json', 'examples/dining-philosophers.ts');
    assert.equal(r.code, 1);
    const report = JSON.parse(r.stdout) as Report;
    assert.deepEqual(
      report.findings.map((f) => f.kind),
      ['deadlock'],
    );
    assert.match(r.stderr, /stopped the program because it is deadlocked/);
  });

  test('arguments after -- reach the program', async () => {
    const program = join(dir, 'args.mjs');
    writeFileSync(
      program,
      "import 'lockscope';\nconsole.log('args:', process.argv.slice(2).join(' '));\n",
    );
    // The program imports lockscope by name: run it from a folder where that resolves.
    mkdirSync(join(root, 'test/.build'), { recursive: true });
    const local = join(root, 'test/.build/args.mjs');
    writeFileSync(local, readFileSync(program));
    const r = await lockscope('run', local, '--', '--flag', 'value');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /args: --flag value/);
  });

  test('fail-fast: the acquisition that would deadlock rejects instead', async () => {
    const r = await lockscope('run', '--fail-fast', '--json', 'examples/dining-philosophers.ts');
    const report = JSON.parse(r.stdout) as Report;
    // A victim was chosen, so nothing deadlocked: the report keeps the averted cycle as a warning.
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.pattern, f.severity, f.tasks.length]),
      [['deadlock', 'averted', 'warning', 5]],
    );
    assert.match(r.stderr, /DeadlockError: .* cannot wait for fork \d without deadlocking/);
    // The error's stack starts at the program's own call.
    const frame = /DeadlockError: .*\n\s+at (.*)/.exec(r.stderr)?.[1];
    assert.match(frame ?? '', /examples\/dining-philosophers\.ts:34:\d+\)?$/);
  });

  test('a missing program: exit status 2; a program that fails to load: 1, with what was seen', async () => {
    const missing = await lockscope('run', 'examples/nope.ts');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot run examples\/nope\.ts: no such file/);
    const broken = join(dir, 'broken.mjs');
    writeFileSync(broken, 'this is not javascript\n');
    const r = await lockscope('run', broken);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /SyntaxError/);
    assert.match(r.stderr, /no lock operations were observed/);
    assert.match(r.stderr, /the program exited with code 1 \(an uncaught error/);
    assert.doesNotMatch(r.stderr, /did not start/);
  });
});
