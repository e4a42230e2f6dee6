/**
 * The `lockscope` command line: runs a program with the probe, collects from programs started
 * elsewhere, or reads a recorded trace, and reports what the analysis finds. See USAGE for the
 * commands and exit statuses.
 */
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Analyzer, type AnalysisOptions } from './analysis/engine.js';
import { toChromeTrace } from './analysis/chrome-trace.js';
import { toSarif } from './analysis/sarif.js';
import { DEFAULT_MAX_SITES, formatReport } from './analysis/text.js';
import {
  analyzeTrace,
  readTrace,
  TraceError,
  type TraceLine,
  type TraceRead,
} from './analysis/trace.js';
import { traceLines, TraceFileError } from './trace-file.js';
import { LineWriter, writeAllSync, writeStdout } from './line-writer.js';
import { rerunWithTraceHeap } from './trace-heap.js';
import { FINDING_KINDS, type Finding } from './analysis/types.js';
import { refusalLog, startCollector, type RejectCode } from './collector.js';
import { EventFormatter } from './format.js';
import { loadRenderer, PAGE_INTERVALS, writeHtml } from './report/html.js';
import { writeJson } from './report/json-writer.js';
import { describeExit, EXIT, EXIT_TABLE, verdict } from './exit-status.js';
import { moduleDir } from './module-dir.js';
import { TYPESCRIPT_FILE, typeScriptLoader } from './typescript-runner.js';
import { PROBE_VERSION } from './runtime.js';
import {
  CannotStart,
  describeStop,
  ProgramRun,
  programEnvironment,
  type ProgramOutcome,
} from './run-child.js';
import { COLLECT_OPTIONS, COLLECT_USAGE, collectCommand } from './cli-collect.js';
import { EXPLORE_OPTIONS, EXPLORE_USAGE, exploreCommand, replayCommand } from './cli-explore.js';
import { serveDebugAdapter } from './debug-adapter.js';
import {
  checkOutputs,
  parseFailOn,
  positiveNumber,
  Refusal,
  timeoutSeconds,
  UsageError,
  wholeNumber,
} from './cli-options.js';

const USAGE = `Usage:
  lockscope run [options] <program.ts|program.js> [-- args...]
      Runs the program with the probe (TypeScript needs no build step), prints what it finds,
      and stops the program once it is deadlocked.
  lockscope report [options] <trace.jsonl>
      Analyses a trace recorded with LOCKSCOPE_TRACE=trace.jsonl.
  lockscope events <trace.jsonl>
      Prints a recorded trace, one readable line per event.
${COLLECT_USAGE}
${EXPLORE_USAGE}

Options for run, report and collect:
  --json                 print the report as JSON on stdout (the program's output goes to stderr)
  --sarif <file>         write the findings as SARIF 2.1.0
  --trace <file>         write a Chrome trace (open it in https://ui.perfetto.dev)
  --html <file>          write a standalone HTML page with the wait-for graph and time line
  --fail-on <kinds>      comma-separated finding kinds that make the exit status 1
                         (default: every error-severity finding; "none" never fails)
  --long-hold-ms <n>     a hold longer than this is a long-hold finding (default 1000)
  --starvation <n>       grants to others while one task waits that make starvation (default 50)
  --livelock <n>         failed try-locks in a row that make a livelock (default 10)
  --max-sites <n>        places shown per finding in the text report (default ${DEFAULT_MAX_SITES})
  --timeout <seconds>    run only: stop the program after this long and report
  --fail-fast            run only: a lock acquisition that would deadlock rejects at once
                         with a DeadlockError (LOCKSCOPE_FAIL_FAST=1)
  --no-color             plain text

${EXIT_TABLE}

Finding kinds: ${FINDING_KINDS.join(', ')}.`;

interface Common {
  json: boolean;
  sarif: string | undefined;
  trace: string | undefined;
  html: string | undefined;
  failOn: ((f: Finding) => boolean) | undefined;
  analysis: Partial<AnalysisOptions>;
  color: boolean;
  maxSites: number | undefined;
  timeout: number | undefined;
  failFast: boolean;
}

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  json: { type: 'boolean' },
  sarif: { type: 'string' },
  trace: { type: 'string' },
  html: { type: 'string' },
  'fail-on': { type: 'string' },
  'long-hold-ms': { type: 'string' },
  starvation: { type: 'string' },
  livelock: { type: 'string' },
  'max-sites': { type: 'string' },
  timeout: { type: 'string' },
  'fail-fast': { type: 'boolean' },
  'no-color': { type: 'boolean' },
  ...EXPLORE_OPTIONS,
  ...COLLECT_OPTIONS,
} as const;

function printEvents(file: string): number {
  const fmt = new EventFormatter({ cwd: process.cwd() });
  const out = new LineWriter(writeStdout);
  let read: TraceRead;
  try {
    read = readTrace(readLines(file), (m) => out.lines(fmt.format(m)));
  } catch (err) {
    out.flush();
    throw traceRefusal(file, err);
  }
  const c = read.session.counters;
  if (read.cut) out.line('(the last line was cut short, as a killed program leaves it: left out)');
  out.line(
    `${c.events} events in ${c.messages} messages` +
      (c.unknownMessages || c.unknownOps
        ? ` (${c.unknownMessages} messages and ${c.unknownOps} operations of kinds this version does not know were skipped)`
        : ''),
  );
  out.flush();
  return 0;
}

/** The lines of a trace file, read in constant memory; a file that cannot be read is refused. */
function* readLines(file: string): Generator<TraceLine> {
  try {
    yield* traceLines(file);
  } catch (err) {
    if (err instanceof TraceFileError) {
      throw new Refusal(`cannot read the trace ${file}: ${err.message}`);
    }
    throw err;
  }
}

/** A refusal for a trace that is not valid, or the error itself. */
function traceRefusal(file: string, err: unknown): unknown {
  if (err instanceof TraceError) {
    return new Refusal(`${file} is not a valid Lockscope trace: ${err.message}`);
  }
  return err;
}

function report(file: string, common: Common): number {
  let analyzer: Analyzer;
  try {
    analyzer = analyzeTrace(readLines(file), common.analysis);
  } catch (err) {
    throw traceRefusal(file, err);
  }
  return finish(analyzer, common, undefined);
}

/** Writes every requested output and returns the exit status. */
function finish(
  analyzer: Analyzer,
  common: Common,
  programFailed: string | undefined,
  stopped = false,
  refused = 0,
): number {
  const cwd = process.cwd();
  const sources = new Map<string, string[] | undefined>();
  const readSource = (path: string): string[] | undefined => {
    if (!sources.has(path)) {
      let lines: string[] | undefined;
      try {
        lines = readFileSync(path, 'utf8').split(/\r?\n/);
      } catch {
        lines = undefined;
      }
      sources.set(path, lines);
    }
    return sources.get(path);
  };
  // The JSON writes its own report, with its intervals and the resources they name, as it is
  // made: written before the other report is made, so that the two are never held at once.
  if (common.json) {
    const out = new LineWriter(writeStdout);
    writeJson(analyzer.streamedReport(), (piece) => out.text(piece), { indent: 2 });
    out.line('');
    out.flush();
  }
  // The text and SARIF show no time line, the page shows its last PAGE_INTERVALS intervals, and
  // the JSON writes its intervals as they are made: only the Chrome trace holds them all.
  const r = analyzer.report({
    maxIntervals: common.trace ? undefined : common.html ? PAGE_INTERVALS : 0,
  });
  if (common.sarif) {
    const sarif = toSarif(r, { cwd, toolVersion: PROBE_VERSION });
    writeOutput(common.sarif, (write) => writeJson(sarif, write, { indent: 2 }));
  }
  if (common.trace) {
    const trace = toChromeTrace(r);
    writeOutput(common.trace, (write) => writeJson(trace, write));
  }
  if (common.html) {
    const renderer = loadRenderer();
    writeOutput(common.html, (write) => writeHtml(r, renderer, 'Lockscope report', write));
  }
  if (!common.json) {
    writeStdout(
      formatReport(r, { cwd, readSource, color: common.color, maxSites: common.maxSites }),
    );
    for (const [flag, file] of [
      ['SARIF', common.sarif],
      ['Chrome trace', common.trace],
      ['HTML report', common.html],
    ] as const) {
      if (file) writeStdout(`${flag} written to ${file}\n`);
    }
  }
  if (programFailed) process.stderr.write(`lockscope: ${programFailed}\n`);
  const fails = common.failOn ?? ((f: Finding) => f.severity === 'error');
  const v = verdict(r, fails, programFailed !== undefined, stopped, refused);
  if (v.inconclusive) process.stderr.write(`lockscope: inconclusive: ${v.inconclusive}\n`);
  return v.status;
}

/** Writes an output file in pieces as `produce` makes them, never as one string. */
function writeOutput(file: string, produce: (write: (piece: string) => void) => void): void {
  let fd: number;
  try {
    fd = openSync(file, 'w');
  } catch (err) {
    throw new Refusal(`cannot write ${file}: ${messageOf(err)}`);
  }
  try {
    const out = new LineWriter((text) => writeAllSync(fd, text));
    produce((piece) => out.text(piece));
    out.flush();
  } catch (err) {
    // A failed write (a full disk) is the user's to fix; anything else is ours.
    if (typeof (err as NodeJS.ErrnoException).code === 'string') {
      throw new Refusal(`cannot write ${file}: ${messageOf(err)}`);
    }
    throw err;
  } finally {
    closeSync(fd);
  }
}

async function run(program: string, args: string[], common: Common): Promise<number> {
  const file = resolve(program);
  if (!existsSync(file)) throw new Refusal(`cannot run ${program}: no such file`);
  if (statSync(file).isDirectory()) throw new Refusal(`cannot run ${program}: it is a folder`);
  const here = moduleDir();
  const execArgv: string[] = [];
  if (TYPESCRIPT_FILE.test(file)) {
    const loader = typeScriptLoader(file, here);
    if (!loader.ok) throw new Refusal(loader.reason);
    execArgv.push(...loader.execArgv);
  }
  const register = join(here, 'register.mjs');
  if (existsSync(register)) execArgv.push('--import', pathToFileURL(register).href);

  const analyzer = new Analyzer(common.analysis);
  // From here on, SIGINT, SIGTERM and SIGHUP stop the program instead of ending lockscope.
  const child = new ProgramRun({ timeoutSeconds: common.timeout });
  try {
    analyzer.onFinding = (f) => {
      // Only a deadlock that stands stops the program: an uncertain one may be wrong (see
      // Certainty), and one that fail-fast averted is a warning the program recovers from.
      const stands = f.severity === 'error' && f.certainty === 'exact';
      if ((f.kind === 'deadlock' || f.kind === 'self-deadlock') && stands) {
        child.stop({ kind: 'deadlock', finding: f.kind });
      }
    };
    const rejected: { reason: string; code: RejectCode }[] = [];
    const collector = await startCollector({
      onMessage: (conn, m) => {
        analyzer.accept(conn, m);
      },
      onReject: (_conn, reason, code) => rejected.push({ reason, code }),
      // A stream that ends without its `end` message was cut off (a child killed mid-run), and
      // ended processes beyond the analysis's limit are forgotten, as in every session.
      onEnd: (conn) => analyzer.endStream(conn),
    });
    try {
      let outcome: ProgramOutcome;
      try {
        outcome = await child.run(process.execPath, [file, ...args], {
          env: programEnvironment(
            process.env,
            {
              ...collector.env(),
              ...(common.failFast ? { LOCKSCOPE_FAIL_FAST: '1' } : {}),
            },
            execArgv,
          ),
          stdio: ['inherit', common.json ? process.stderr : 'inherit', 'inherit'],
        });
      } catch (err) {
        if (err instanceof CannotStart)
          throw new Refusal(`cannot start ${program}: ${err.message}`);
        throw err;
      }
      const { exit, stopped } = outcome;
      // Let the collector read what the program wrote before it ended.
      for (let i = 0; i < 200 && collector.connections.size > 0; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      // Said once per reason, then counted, as every session logs refusals.
      const logRefusal = refusalLog((line) => process.stderr.write(`lockscope: ${line}\n`));
      for (const { reason, code } of rejected) logRefusal(reason, code);
      const events = analyzer.events;
      const note = stopped
        ? `stopped the program because ${describeStop(stopped)}`
        : `the program ${describeExit(exit)}`;
      const failed = !stopped && (exit.code !== 0 || exit.signal) ? note : undefined;
      // A failure is said once, after the report; anything else is said now.
      if (!failed) process.stderr.write(`lockscope: ${note}\n`);
      if (outcome.leftovers) {
        process.stderr.write('lockscope: ended the processes the program left running\n');
      }
      // A program that ran no operation of the probe still ran (one that could not be started was
      // refused above, on spawn's error): say what was observed, never "did not start".
      if (events === 0) process.stderr.write('lockscope: no lock operations were observed\n');
      return finish(analyzer, common, failed, stopped !== undefined, rejected.length);
    } finally {
      await collector.close();
    }
  } finally {
    child.dispose();
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function main(argv: string[]): Promise<number> {
  // Everything after `--` belongs to the program.
  const dash = argv.indexOf('--');
  const ours = dash < 0 ? argv : argv.slice(0, dash);
  const theirs = dash < 0 ? [] : argv.slice(dash + 1);
  const { values, positionals } = parseArgs({
    args: ours,
    options: OPTIONS,
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
  const common: Common = {
    json: values.json ?? false,
    sarif: values.sarif,
    trace: values.trace,
    html: values.html,
    failOn: parseFailOn(values['fail-on']),
    analysis: {
      ...(values['long-hold-ms'] !== undefined
        ? { longHoldMs: positiveNumber('long-hold-ms', values['long-hold-ms']) }
        : {}),
      ...(values.starvation !== undefined
        ? { starvationGrants: positiveNumber('starvation', values.starvation) }
        : {}),
      ...(values.livelock !== undefined
        ? { livelockRetries: positiveNumber('livelock', values.livelock) }
        : {}),
    },
    color: !values['no-color'] && process.stdout.isTTY && !process.env.NO_COLOR,
    maxSites: wholeNumber('max-sites', values['max-sites']),
    timeout: timeoutSeconds(values.timeout),
    failFast: values['fail-fast'] ?? false,
  };
  const [command, ...rest] = positionals;
  checkOutputs(common);
  if (values.listen !== undefined && command !== 'collect') {
    throw new UsageError('--listen is for collect');
  }
  switch (command) {
    case 'events':
      if (rest.length !== 1) throw new UsageError('events takes exactly one trace file');
      return rerunWithTraceHeap() ?? printEvents(rest[0]!);
    case 'report':
      if (rest.length !== 1) throw new UsageError('report takes exactly one trace file');
      return rerunWithTraceHeap() ?? report(rest[0]!, common);
    case 'run':
      if (rest.length < 1) throw new UsageError('run needs the program to run');
      return run(rest[0]!, [...rest.slice(1), ...theirs], common);
    case 'collect':
      if (rest.length > 0) throw new UsageError('collect takes no program: run them elsewhere');
      if (common.timeout !== undefined || common.failFast) {
        throw new UsageError('--timeout and --fail-fast are for run, not collect');
      }
      return collectCommand(values.listen, {
        analysis: common.analysis,
        finish: (analyzer, failed) => finish(analyzer, common, failed),
        usage: (message) => new UsageError(message),
        refusal: (message) => new Refusal(message),
      });
    case 'debug-adapter':
      // The Debug Adapter Protocol on stdin and stdout, until the editor disconnects.
      serveDebugAdapter();
      return new Promise<number>(() => {});
    case 'explore':
    case 'replay': {
      for (const [flag, given] of [
        ['--json', common.json],
        ['--sarif', common.sarif],
        ['--trace', common.trace],
        ['--html', common.html],
        ['--fail-fast', common.failFast],
      ] as const) {
        if (given) throw new UsageError(`${flag} is for run and report, not ${command}`);
      }
      const cli = {
        values,
        analysis: common.analysis,
        failOn: common.failOn,
        timeout: common.timeout,
        finish: (analyzer: Analyzer, failed: string | undefined) =>
          finish(analyzer, common, failed),
        usage: (message: string) => new UsageError(message),
        refusal: (message: string) => new Refusal(message),
      };
      if (command === 'explore' && rest.length !== 1) {
        throw new UsageError('explore takes exactly one program');
      }
      if (command === 'replay' && (rest.length < 1 || rest.length > 2)) {
        throw new UsageError('replay takes a program and a schedule file');
      }
      const status = await (command === 'explore'
        ? exploreCommand(rest[0]!, theirs, cli)
        : replayCommand(rest[0]!, rest[1], theirs, cli));
      // What the program's runs left behind (an interval, a server) must not keep lockscope up.
      return process.exit(status);
    }
    case undefined:
      throw new UsageError('no command given');
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

// A terminal that hung up (SIGHUP) or a reader that went away fails every later write; what is
// left to do (the output files, removing the collector's folder) must still be done.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EIO' && err.code !== 'EPIPE') throw err;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof Refusal) {
      process.stderr.write(`lockscope: ${err.message}\n`);
    } else if (
      err instanceof UsageError ||
      (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`lockscope: ${messageOf(err)}\n\n${USAGE}\n`);
    } else {
      process.stderr.write(
        `lockscope: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
    }
    process.exitCode = EXIT.usage;
  },
);
