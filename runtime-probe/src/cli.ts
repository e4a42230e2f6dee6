/**
 * The `lockscope` command line.
 *
 *   lockscope events <trace.jsonl>   print a recorded trace, one readable line per event
 *
 * Exit status: 0 on success, 1 when the trace is unreadable or not a trace, 2 for usage errors.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EventFormatter } from './format.js';
import { StreamSession } from './collector.js';
import { PROBE_VERSION } from './runtime.js';

const USAGE = `Usage:
  lockscope events <trace.jsonl>   print a recorded trace readably
  lockscope --version
  lockscope --help

Record a trace by running a program with LOCKSCOPE_TRACE=trace.jsonl set, for example
  LOCKSCOPE_TRACE=trace.jsonl node --import lockscope/register app.js`;

class UsageError extends Error {}

function printEvents(file: string): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : String(err);
    process.stderr.write(`lockscope: cannot read the trace ${file}: ${why}\n`);
    return 1;
  }
  const session = new StreamSession(undefined);
  const fmt = new EventFormatter({ cwd: process.cwd() });
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    try {
      const m = session.accept(lines[i]!);
      if (m) out.push(...fmt.format(m));
    } catch (err) {
      process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
      const reason = err instanceof Error ? err.message : String(err);
      process.stderr.write(
        `lockscope: ${file} is not a valid Lockscope trace (line ${i + 1}): ${reason}\n`,
      );
      return 1;
    }
  }
  if (!session.hello) {
    process.stderr.write(`lockscope: ${file} is empty: a trace starts with a hello message\n`);
    return 1;
  }
  const c = session.counters;
  out.push(
    `${c.events} events in ${c.messages} messages` +
      (c.unknownMessages || c.unknownOps
        ? ` (${c.unknownMessages} messages and ${c.unknownOps} operations of kinds this version does not know were skipped)`
        : ''),
  );
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (values.version) {
    process.stdout.write(`lockscope ${PROBE_VERSION}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  switch (command) {
    case 'events':
      if (rest.length !== 1) throw new UsageError('events takes exactly one trace file');
      return printEvents(rest[0]!);
    case undefined:
      throw new UsageError('no command given');
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`lockscope: ${message}\n\n${USAGE}\n`);
  process.exitCode = 2;
}
