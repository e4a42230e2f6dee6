// `npm start`: runs the deadlocking dining philosophers under `lockscope run`, which prints the
// cycle with its source lines, stops the program, and writes the HTML report.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

const example = process.argv[2] ?? 'examples/dining-philosophers.ts';
const html = '.lockscope/report.html';
mkdirSync('.lockscope', { recursive: true });

console.log(`$ lockscope run ${example} --html ${html}\n`);
const run = spawnSync(
  process.execPath,
  ['runtime-probe/dist/cli.cjs', 'run', example, '--html', html],
  { stdio: 'inherit' },
);
// Exit status 1 means that lockscope found an error-severity finding: for this demo, the point.
if (run.status === 1) {
  console.log(`\nlockscope exited with 1: it found the deadlock. Open ${html} to see it drawn.`);
} else {
  console.error(`\nlockscope exited with ${run.status ?? run.signal}; expected 1 (a deadlock).`);
  process.exitCode = 1;
}
