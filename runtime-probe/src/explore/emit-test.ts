/**
 * `lockscope explore --emit-test`: a `node:test` file that replays a failing schedule, so that the
 * bug becomes a regression test. The schedule is written inline, one decision a line, each with
 * the source line it stopped at as a comment. Pure: the file's text from the schedule.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { parseScheduleString, stepWords, type ScheduleFile } from './schedule.js';

/** The test file's text, for a test written to `testFile` about `programFile`. */
export function emitTest(testFile: string, programFile: string, schedule: ScheduleFile): string {
  const choices = parseScheduleString(schedule.schedule);
  const sources = new Map<string, string[]>();
  const sourceLine = (at: string | undefined): string => {
    const m = at ? /^(.*):(\d+)$/.exec(at) : null;
    if (!m) return '';
    const file = join(dirname(programFile), m[1]!);
    let lines = sources.get(file);
    if (!lines) {
      try {
        lines = readFileSync(file, 'utf8').split(/\r?\n/);
      } catch {
        lines = [];
      }
      sources.set(file, lines);
    }
    const text = lines[Number(m[2]) - 1]?.trim();
    return text ? `: ${text}` : '';
  };
  const path = relative(dirname(testFile), programFile).split(sep).join('/');
  const name = programFile.split(/[\\/]/).pop()!;
  const steps = schedule.steps
    .map(
      (s, i) =>
        `  ${choices[i]}, // ${stepWords({ ...s, at: undefined })}, ${s.at ?? ''}${sourceLine(s.at)}`,
    )
    .join('\n');
  const found = schedule.found.split('\n')[0]!.slice(0, 200);
  return `// Written by \`lockscope explore --emit-test\`: replays the schedule under which ${name}
// failed. It fails while the bug is there and passes once the program no longer fails under it
// (a schedule the program no longer follows stops the replay, which then passes).
// It found: ${found}
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const program = fileURLToPath(new URL(${quote(path.startsWith('.') ? path : `./${path}`)}, import.meta.url));
const lockscope = join(
  dirname(createRequire(import.meta.url).resolve('lockscope/package.json')),
  'bin/lockscope.cjs',
);
// Which call went on at each decision, counted among those then waiting, in the order they began.
const schedule = [
${steps}
];

test(${quote(`${name} does not fail under the schedule that broke it`)}, () => {
  const replay = spawnSync(
    process.execPath,
    [lockscope, 'replay', '--timers', ${quote(schedule.timers)}, '--schedule', schedule.join('.'), program],
    { encoding: 'utf8' },
  );
  // 0: clean; 3: the program no longer follows the schedule (it changed); 1: it fails again.
  assert.ok(replay.status === 0 || replay.status === 3, replay.stdout + replay.stderr);
});
`;
}

/** A string literal in single quotes, as the project's style writes them. */
function quote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}
