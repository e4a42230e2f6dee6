/**
 * Configuration from the environment, so that an unchanged program can be observed:
 *
 * - LOCKSCOPE_TRACE=path.jsonl writes a JSON Lines trace;
 * - LOCKSCOPE_ENDPOINT=socket-path (or tls://host:port, remote.ts) with LOCKSCOPE_TOKEN=token
 *   streams to a collector;
 * - LOCKSCOPE_LOSSLESS=1 (which a collector sets) makes delivery to it lossless (lossless.ts);
 * - LOCKSCOPE_FAIL_FAST=1 makes a lock acquisition that would deadlock reject at once;
 * - LOCKSCOPE_STACKS=off|blocking|all chooses which operations capture their source site
 *   (default blocking), LOCKSCOPE_STACK_DEPTH=n how many user frames a site keeps (default 4).
 *
 * A bad value is reported once on stderr and the default is used: observing a program must never
 * stop it from running.
 */
import { remoteOf } from './remote.js';
import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';
import { rt, warnOnce, type ProbeConfig, type StackMode } from './runtime.js';
import { attachSink, helloMessage } from './recorder.js';
import { FileSink } from './transports/file.js';
import { SocketSink } from './transports/socket.js';
import { LosslessSink } from './transports/lossless.js';
import { ThreadForwardSink } from './transports/thread.js';
import { coverChildProcesses } from './children.js';

const STACK_MODES: readonly StackMode[] = ['off', 'blocking', 'all'];

export type Env = Record<string, string | undefined>;

/** The longest hold before the watchdog warns: a day. */
const MAX_HOLD_WARN_MS = 86_400_000;

/** Parses the settings part of the environment; returns the config and the problems found. */
export function parseEnvConfig(
  env: Env,
  base: ProbeConfig,
): { config: ProbeConfig; problems: string[] } {
  const config = { ...base };
  const problems: string[] = [];
  const stacks = env.LOCKSCOPE_STACKS;
  if (stacks !== undefined && stacks !== '') {
    if ((STACK_MODES as readonly string[]).includes(stacks)) config.stacks = stacks as StackMode;
    else
      problems.push(`LOCKSCOPE_STACKS must be one of ${STACK_MODES.join(', ')}, got "${stacks}"`);
  }
  const depth = env.LOCKSCOPE_STACK_DEPTH;
  if (depth !== undefined && depth !== '') {
    const n = Number(depth);
    if (Number.isInteger(n) && n >= 1 && n <= 64) config.stackDepth = n;
    else problems.push(`LOCKSCOPE_STACK_DEPTH must be an integer from 1 to 64, got "${depth}"`);
  }
  const hold = env.LOCKSCOPE_HOLD_WARN_MS;
  if (hold !== undefined && hold !== '') {
    const n = Number(hold);
    // Timers take at most 2^31-1 ms (a longer delay fires after 1 ms), so a day is the limit.
    if (Number.isInteger(n) && n >= 0 && n <= MAX_HOLD_WARN_MS) config.holdWarnMs = n;
    else
      problems.push(
        `LOCKSCOPE_HOLD_WARN_MS must be a whole number of milliseconds from 0 to ${MAX_HOLD_WARN_MS}, got "${hold}"`,
      );
  }
  const failFast = env.LOCKSCOPE_FAIL_FAST;
  if (failFast !== undefined && failFast !== '') {
    if (failFast === '1' || failFast === 'true') config.failFast = true;
    else if (failFast === '0' || failFast === 'false') config.failFast = false;
    else problems.push(`LOCKSCOPE_FAIL_FAST must be 1 or 0, got "${failFast}"`);
  }
  const lossless = env.LOCKSCOPE_LOSSLESS;
  if (lossless !== undefined && lossless !== '' && lossless !== '1' && lossless !== '0') {
    problems.push(`LOCKSCOPE_LOSSLESS must be 1 or 0, got "${lossless}"`);
  }
  const remote = env.LOCKSCOPE_ENDPOINT ? remoteOf(env.LOCKSCOPE_ENDPOINT) : undefined;
  if (typeof remote === 'string') {
    problems.push(`LOCKSCOPE_ENDPOINT: ${remote}; nothing is streamed`);
  }
  if (env.LOCKSCOPE_ENDPOINT && !env.LOCKSCOPE_TOKEN) {
    problems.push(
      'LOCKSCOPE_ENDPOINT is set without LOCKSCOPE_TOKEN; the collector will refuse the connection',
    );
  }
  return { config, problems };
}

const WARNED_KEY = 'lockscope.config-warned.v1';

/** Applies the environment once per thread, whichever build of the probe loads first. */
export function applyEnvironment(env: Env = process.env): void {
  if (rt.states.has('env-applied')) return;
  rt.states.set('env-applied', true);
  const { config, problems } = parseEnvConfig(env, rt.config);
  rt.config = config;
  // A worker inherits the environment, and with it the main thread's problems: those were said
  // once already (the main thread passes them on); only a worker's own are said again.
  const said = getEnvironmentData(WARNED_KEY);
  const known = new Set(Array.isArray(said) ? (said as unknown[]) : []);
  for (const p of problems) if (!known.has(p)) warnOnce(p, p);
  if (rt.threadId === 0 && problems.length > 0) setEnvironmentData(WARNED_KEY, problems);
  // Every thread has its own `child_process`, and any of them may start a Node process that
  // belongs in the session.
  coverChildProcesses(env);
  // Worker threads share the process's environment. Opening the trace file or a connection from
  // each of them would clobber the main thread's trace and split one process into several
  // streams; their events reach the main thread's sinks instead.
  if (rt.threadId !== 0) {
    // Workers forward their batches: to the main thread's trace file and subscribers, and to
    // the I/O thread that streams them to the collector (see transports/thread.ts).
    if (env.LOCKSCOPE_TRACE || env.LOCKSCOPE_ENDPOINT) attachSink(new ThreadForwardSink());
    return;
  }
  if (env.LOCKSCOPE_TRACE) attachSink(new FileSink(env.LOCKSCOPE_TRACE));
  if (env.LOCKSCOPE_ENDPOINT && typeof remoteOf(env.LOCKSCOPE_ENDPOINT) !== 'string') {
    const token = env.LOCKSCOPE_TOKEN ?? '';
    // A remote collector is always lossless: a short program would otherwise end before its TLS
    // handshake did, and writes waiting for a handshake do not keep a program alive.
    const lossless =
      env.LOCKSCOPE_LOSSLESS === '1' || remoteOf(env.LOCKSCOPE_ENDPOINT) !== undefined;
    attachSink(
      lossless
        ? new LosslessSink(env.LOCKSCOPE_ENDPOINT, helloMessage(token))
        : new SocketSink(env.LOCKSCOPE_ENDPOINT, token),
    );
  }
}
