// `npm start`: runs the deadlocking dining philosophers with the probe recording to a trace file,
// then prints the trace readably with `lockscope events`.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

const example = process.argv[2] ?? 'examples/dining-philosophers.ts';
const trace = '.lockscope/demo.jsonl';
mkdirSync('.lockscope', { recursive: true });

console.log(`$ LOCKSCOPE_TRACE=${trace} node --import tsx ${example}`);
const run = spawnSync(process.execPath, ['--import', 'tsx', example], {
  stdio: 'inherit',
  env: { ...process.env, LOCKSCOPE_TRACE: trace },
});
console.log(`(the program exited with code ${run.status ?? run.signal})\n`);

console.log(`$ lockscope events ${trace}`);
const show = spawnSync(process.execPath, ['runtime-probe/dist/cli.cjs', 'events', trace], {
  stdio: 'inherit',
});
process.exitCode = show.status ?? 1;
