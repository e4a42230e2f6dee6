/**
 * The program that `lockscope run` runs, and every way its run can end. On POSIX systems the
 * program leads a process group of its own, so that a stop reaches everything it started: the
 * signals lockscope is sent (SIGINT, SIGTERM, SIGHUP) are forwarded to the whole group, a stop
 * (a deadlock, --timeout) sends the group SIGTERM and then SIGKILL after a grace period, and what
 * is left of the group once the program has ended is ended the same way. On Windows, where there
 * are no process groups, a stop ends the program's process tree with taskkill.
 *
 * The program gets a session of its own (Node's `detached`), so the terminal's Ctrl+C reaches
 * only lockscope, which forwards it: the program sees the SIGINT it would have seen in the
 * foreground, after which lockscope still reports what it observed.
 */
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { groupRunning } from './processes.js';

/** The signals that stop a run, forwarded to the program as they are. */
export type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';
export const STOP_SIGNALS: readonly StopSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Why lockscope stopped the program. */
export type StopCause =
  | { kind: 'deadlock'; finding: string }
  | { kind: 'timeout'; seconds: number }
  | { kind: 'signal'; signal: StopSignal };

/** How long a stopped program, and what it started, have between SIGTERM and SIGKILL. */
export const GRACE_MS = 2000;
/** How often the group is looked at while what the program left behind ends. */
const POLL_MS = 50;

const SIGNAL_WORDS: Record<StopSignal, string> = {
  SIGINT: 'lockscope was interrupted (SIGINT, as Ctrl+C sends)',
  SIGTERM: 'lockscope was asked to terminate (SIGTERM)',
  SIGHUP: 'the terminal of lockscope hung up (SIGHUP)',
};

/** The end of "stopped the program because ...". Pure. */
export function describeStop(cause: StopCause): string {
  switch (cause.kind) {
    case 'deadlock':
      return `it is deadlocked (${cause.finding})`;
    case 'timeout':
      return `the --timeout of ${cause.seconds} s passed`;
    case 'signal':
      return SIGNAL_WORDS[cause.signal];
  }
}

/** How a signal reaches the program and everything it started. */
export type Kill =
  /** process.kill(pid, signal) with the negative pid of the group. */
  | { how: 'group'; pid: number; signal: NodeJS.Signals }
  /** A command that ends the process tree at once, whatever the signal. */
  | { how: 'tree'; command: string; args: string[] };

/** The way to send `signal` to the program `pid` and what it started, on `platform`. Pure. */
export function killPlan(platform: NodeJS.Platform, pid: number, signal: NodeJS.Signals): Kill {
  if (platform === 'win32') {
    return { how: 'tree', command: 'taskkill', args: ['/T', '/F', '/PID', String(pid)] };
  }
  return { how: 'group', pid: -pid, signal };
}

export function isStopSignal(signal: string): signal is StopSignal {
  return (STOP_SIGNALS as readonly string[]).includes(signal);
}

/** How the program ended, and what lockscope did about it. */
export interface ProgramOutcome {
  exit: { code: number | null; signal: NodeJS.Signals | null };
  /** Why lockscope stopped the program, if it did. */
  stopped: StopCause | undefined;
  /** True when processes the program started outlived it, and lockscope ended them. */
  leftovers: boolean;
}

/**
 * The program's environment: lockscope's own environment, the session's variables, and the
 * flags that load the probe (and the TypeScript loader) in NODE_OPTIONS rather than on the
 * command line, so that every Node process the program starts with this environment loads them
 * too, whatever `execArgv` it is given. LOCKSCOPE_NODE_OPTIONS repeats the flags, for the
 * probe to put back into the environment of a Node child that was given one without them
 * (children.ts). The flags are file URLs, which have no spaces to quote. Pure.
 */
export function programEnvironment(
  base: NodeJS.ProcessEnv,
  session: Record<string, string>,
  flags: readonly string[],
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, ...session };
  if (flags.length > 0) {
    const ours = flags.join(' ');
    env.NODE_OPTIONS = base.NODE_OPTIONS ? `${base.NODE_OPTIONS} ${ours}` : ours;
    env.LOCKSCOPE_NODE_OPTIONS = ours;
  }
  return env;
}

/** The program could not be started at all (spawn's error). */
export class CannotStart extends Error {}

/**
 * Runs one program. It catches the stop signals from its construction until `dispose()`, so that
 * a signal that arrives while the collector starts is not lost: it stops the program as soon as
 * it exists. A signal after the program ended is absorbed, since what is left to do (reading the
 * last events, writing the report) is bounded.
 */
export class ProgramRun {
  #child: ChildProcess | undefined;
  #stopped: StopCause | undefined;
  #exited = false;
  /** True once SIGKILL was sent to the group: nothing in it can outlive that. */
  #killed = false;
  /** True once the group is known to be empty: its number may belong to another group now. */
  #done = false;
  #killTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: { timeoutSeconds?: number | undefined } = {}) {
    for (const signal of STOP_SIGNALS) process.on(signal, this.#onSignal);
    process.on('exit', this.#onExit);
  }

  /** Stops the program (a deadlock, the timeout): SIGTERM to its group, SIGKILL after a grace. */
  stop(cause: StopCause): void {
    if (this.#stopped || this.#exited) return;
    this.#stopped = cause;
    if (this.#child) this.#terminate(signalOf(cause));
  }

  /**
   * Starts the program and resolves once it has ended and nothing of its group runs any more.
   * Throws CannotStart when it cannot be started.
   */
  async run(
    command: string,
    args: string[],
    options: { env: NodeJS.ProcessEnv; stdio: StdioOptions },
  ): Promise<ProgramOutcome> {
    const exited = new Promise<ProgramOutcome['exit']>((done, fail) => {
      let child: ChildProcess;
      try {
        child = spawn(command, args, {
          env: options.env,
          stdio: options.stdio,
          // A session and process group of its own; lockscope still waits for it (no unref).
          detached: process.platform !== 'win32',
        });
      } catch (err) {
        fail(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      this.#child = child;
      // Kept for the whole run: an error event without a listener would be thrown.
      child.on('error', fail);
      child.once('exit', (code, signal) => done({ code, signal }));
    });
    // A stop that came before the program existed (a signal while the collector started).
    if (this.#stopped) this.#terminate(signalOf(this.#stopped));
    const seconds = this.options.timeoutSeconds;
    const timer =
      seconds !== undefined
        ? setTimeout(() => this.stop({ kind: 'timeout', seconds }), seconds * 1000)
        : undefined;
    try {
      let exit: ProgramOutcome['exit'];
      try {
        exit = await exited;
      } catch (err) {
        throw new CannotStart(err instanceof Error ? err.message : String(err));
      } finally {
        this.#exited = true;
        if (timer) clearTimeout(timer);
      }
      const leftovers = await this.#drain();
      return { exit, stopped: this.#stopped, leftovers: leftovers && !this.#stopped };
    } finally {
      this.#done = true;
      if (this.#killTimer) clearTimeout(this.#killTimer);
    }
  }

  /** Stops catching the stop signals: lockscope's own run is over. */
  dispose(): void {
    for (const signal of STOP_SIGNALS) process.off(signal, this.#onSignal);
    process.off('exit', this.#onExit);
    if (this.#killTimer) clearTimeout(this.#killTimer);
  }

  #onSignal = (signal: NodeJS.Signals): void => {
    if (!isStopSignal(signal) || this.#exited) return;
    // A repeated signal is forwarded again, as the terminal would have sent it to the program;
    // the SIGKILL that follows the first one bounds how long a program may ignore it.
    if (this.#stopped && this.#child) this.#send(signal);
    else this.stop({ kind: 'signal', signal });
  };

  /** An exit of lockscope before the program's end was handled (an internal error). */
  #onExit = (): void => {
    const pid = this.#child?.pid;
    if (this.#done || pid === undefined) return;
    const plan = killPlan(process.platform, pid, 'SIGKILL');
    // Only synchronous work is possible now: nothing the program started may outlive lockscope.
    if (plan.how === 'group') signalGroup(plan.pid, plan.signal);
    else spawnSync(plan.command, plan.args, { stdio: 'ignore', windowsHide: true });
  };

  #terminate(signal: NodeJS.Signals): void {
    this.#send(signal);
    // A thread stuck in Atomics.wait still exits on SIGTERM: SIGKILL is for what catches it.
    this.#killTimer ??= setTimeout(() => this.#send('SIGKILL'), GRACE_MS);
  }

  #send(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (this.#done || this.#killed || pid === undefined) return;
    const plan = killPlan(process.platform, pid, signal);
    if (plan.how === 'group') {
      if (signal === 'SIGKILL') this.#killed = true;
      signalGroup(plan.pid, plan.signal);
    } else {
      this.#killed = true;
      spawn(plan.command, plan.args, { stdio: 'ignore', windowsHide: true }).on('error', () => {
        // taskkill is part of Windows; if it cannot run, there is nothing else to try.
      });
    }
  }

  /**
   * After the program ended: what is left of its group gets SIGTERM (if no stop sent it one
   * already), then SIGKILL at the end of the grace. Resolves true if anything was left. On
   * Windows a tree whose root has ended cannot be found, so nothing is done.
   */
  async #drain(): Promise<boolean> {
    const pid = this.#child?.pid;
    if (pid === undefined || process.platform === 'win32' || !groupRunning(pid)) return false;
    // A member runs, so the number still names this group: it is not handed out again before
    // the last member has ended.
    if (!this.#killTimer) this.#terminate('SIGTERM');
    do await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    while (!this.#killed && groupRunning(pid));
    return true;
  }
}

/** The signal a stop sends first: a signal lockscope was sent is forwarded as it is. */
function signalOf(cause: StopCause): NodeJS.Signals {
  return cause.kind === 'signal' ? cause.signal : 'SIGTERM';
}

/** Sends a signal to a process group; one that has no member left is not an error. */
function signalGroup(negativePid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(negativePid, signal);
  } catch {
    // ESRCH: every member has ended. EPERM: a member is another user's, beyond our reach.
  }
}
