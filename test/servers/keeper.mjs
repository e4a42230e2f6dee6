// Keeps one server for the tests (test/servers.ts): starts it, says `ready` on stdout once the
// server does, and stops it and removes its folder when told to (SIGTERM) or when the process
// that started it is gone, however it ended: a test runner killed with SIGKILL leaves no server
// behind. Plain JavaScript, so that it starts without a loader.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { setInterval, setTimeout } from 'node:timers';

const config = JSON.parse(process.argv[2]);
const parent = process.ppid;
const server = spawn(config.command, config.args, {
  stdio: ['ignore', 'pipe', 'pipe'],
  cwd: config.folder,
  ...(config.uid === undefined ? {} : { uid: config.uid, gid: config.gid }),
});
let output = '';
let ready = false;
const look = (chunk) => {
  if (ready) return;
  output += chunk;
  if (output.includes(config.readyText)) {
    ready = true;
    process.stdout.write('ready\n');
  }
};
server.stdout.setEncoding('utf8').on('data', look);
server.stderr.setEncoding('utf8').on('data', look);
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.kill(config.stopSignal);
  // A server that does not stop in time is killed: the folder must go either way.
  setTimeout(() => server.kill('SIGKILL'), 10_000).unref();
};
server.on('exit', (code, signal) => {
  rmSync(config.folder, { recursive: true, force: true });
  if (!ready) process.stderr.write(`${config.command} ended (${code ?? signal}):\n${output}`);
  process.exit(ready ? 0 : 1);
});
server.on('error', (err) => {
  process.stderr.write(`cannot start ${config.command}: ${err.message}\n`);
  rmSync(config.folder, { recursive: true, force: true });
  process.exit(1);
});
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Whoever started this may end without a word: a parent that is gone has handed its children
// to another process.
setInterval(() => {
  if (process.ppid !== parent) stop();
}, 250);
