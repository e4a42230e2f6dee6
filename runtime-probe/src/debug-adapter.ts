/**
 * `lockscope debug-adapter`: the Debug Adapter Protocol over stdin and stdout, for stepping through
 * a program one scheduling decision at a time in an editor's debugging UI (the VS Code extension
 * registers it as the `lockscope` debug type). You are the scheduler: the program's flows are the
 * debugger's threads, each stopped at the call it waits at; Step lets the selected flow go on to
 * its next decision, Continue lets a strategy choose until a finding, Step Back and Reverse
 * Continue replay the run to an earlier decision.
 *
 * The adapter runs the program itself, in this process, as `lockscope explore` does (explore/):
 * the protocol between the editor and the adapter is the control channel, and nothing listens on
 * a socket. JavaScript breakpoints and variables are not part of it, and the adapter says so.
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  ContinuedEvent,
  DebugSession,
  InitializedEvent,
  OutputEvent,
  Source,
  StackFrame,
  StoppedEvent,
  Thread,
  Event,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { formatReport } from './analysis/text.js';
import { Explorer, exploreSettings } from './explore/explorer.js';
import { loadProgram, ProgramError } from './explore/program.js';
import { parseScheduleFile, parseScheduleString } from './explore/schedule.js';
import { makeStrategy, STRATEGIES, type StrategyName } from './explore/strategies.js';
import { Stepper, type StepView } from './explore/stepper.js';

/** What a `lockscope` launch configuration may say. */
export interface LaunchArguments extends DebugProtocol.LaunchRequestArguments {
  program: string;
  args?: string[];
  cwd?: string;
  /** The strategy Continue uses: random (default) or pct. */
  strategy?: string;
  seed?: number;
  timers?: 'any' | 'ordered';
  /** A schedule saved by `lockscope explore`, to open at its last decision. */
  schedule?: string;
}

/** Why the adapter cannot do what a request asks: shown to the user as it is. */
class Refused extends Error {}

export const NO_BREAKPOINTS =
  'Lockscope steps through scheduling decisions: JavaScript breakpoints and variables are not ' +
  'available in this session (use a Node debug session for them).';

export class LockscopeDebugSession extends DebugSession {
  #stepper: Stepper | undefined;
  #explorer: Explorer | undefined;
  #launch: LaunchArguments | undefined;
  #shownOutput = 0;
  #queue: Promise<void> = Promise.resolve();

  protected override initializeRequest(
    response: DebugProtocol.InitializeResponse,
    _args: DebugProtocol.InitializeRequestArguments,
  ): void {
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsStepBack: true,
      supportsRestartRequest: true,
      supportsTerminateRequest: true,
      supportsSingleThreadExecutionRequests: true,
    };
    this.sendResponse(response);
    this.sendEvent(new InitializedEvent());
  }

  protected override launchRequest(
    response: DebugProtocol.LaunchResponse,
    args: DebugProtocol.LaunchRequestArguments,
  ): void {
    this.#answer(response, async () => {
      const launch = checkLaunch(args);
      this.#launch = launch;
      if (launch.cwd) process.chdir(launch.cwd);
      let program;
      try {
        program = await loadProgram(resolve(launch.program));
      } catch (err) {
        if (err instanceof ProgramError) throw new Refused(err.message);
        throw err;
      }
      this.#explorer = new Explorer(
        program,
        exploreSettings({
          timers: launch.timers ?? 'any',
          maxSteps: 100_000,
          // A person takes seconds between two decisions: a hold that lasts that long is the
          // pace of stepping, not a long hold of the program.
          analysis: { longHoldMs: Number.MAX_SAFE_INTEGER },
          args: launch.args ?? [],
        }),
      );
      this.#explorer.open();
      this.#stepper = new Stepper(this.#explorer);
      this.#say(`Lockscope: you are the scheduler. ${NO_BREAKPOINTS}\n`);
      let view = await this.#stepper.restart();
      if (launch.schedule) {
        const text = readFileSync(launch.schedule, 'utf8');
        const choices = parseScheduleString(parseScheduleFile(text).schedule);
        view = await this.#stepper.goToChoices(choices);
      }
      this.#stopped(view, 'entry');
    });
  }

  protected override configurationDoneRequest(
    response: DebugProtocol.ConfigurationDoneResponse,
  ): void {
    this.sendResponse(response);
  }

  protected override setBreakPointsRequest(
    response: DebugProtocol.SetBreakpointsResponse,
    args: DebugProtocol.SetBreakpointsArguments,
  ): void {
    response.body = {
      breakpoints: (args.breakpoints ?? []).map(() => ({
        verified: false,
        message: NO_BREAKPOINTS,
      })),
    };
    this.sendResponse(response);
  }

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    const flows = this.#stepper?.view().flows ?? [];
    response.body = {
      threads: flows.map((f) => new Thread(f.id, `${f.name}: ${f.why}`)),
    };
    this.sendResponse(response);
  }

  protected override stackTraceRequest(
    response: DebugProtocol.StackTraceResponse,
    args: DebugProtocol.StackTraceArguments,
  ): void {
    const flow = this.#stepper?.view().flows.find((f) => f.id === args.threadId);
    const frames = flow
      ? [
          new StackFrame(
            flow.id,
            `${flow.name} ${flow.why}`,
            flow.at ? new Source(flow.at.file.split(/[\\/]/).pop()!, flow.at.file) : undefined,
            flow.at?.line ?? 0,
            flow.at?.column ?? 0,
          ),
        ]
      : [];
    response.body = { stackFrames: frames, totalFrames: frames.length };
    this.sendResponse(response);
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse): void {
    response.body = { scopes: [] };
    this.sendResponse(response);
  }

  protected override nextRequest(
    response: DebugProtocol.NextResponse,
    args: DebugProtocol.NextArguments,
  ): void {
    this.#stepFlow(response, args.threadId);
  }

  protected override stepInRequest(
    response: DebugProtocol.StepInResponse,
    args: DebugProtocol.StepInArguments,
  ): void {
    this.#stepFlow(response, args.threadId);
  }

  protected override stepOutRequest(
    response: DebugProtocol.StepOutResponse,
    args: DebugProtocol.StepOutArguments,
  ): void {
    this.#stepFlow(response, args.threadId);
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    this.#answer(response, async () => {
      const launch = this.#launch!;
      const strategy = makeStrategy((launch.strategy ?? 'random') as StrategyName, {
        seed: launch.seed ?? Math.floor(Math.random() * 2 ** 31),
        depth: 3,
        maxSteps: 100_000,
      });
      strategy.begin(0);
      response.body = { allThreadsContinued: true };
      this.#stopped(await this.#session().continue(strategy), 'step');
    });
  }

  protected override stepBackRequest(response: DebugProtocol.StepBackResponse): void {
    this.#answer(response, async () => this.#stopped(await this.#replay().back(1), 'step'));
  }

  protected override reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): void {
    this.#answer(response, async () => this.#stopped(await this.#replay().goTo(0), 'entry'));
  }

  protected override restartRequest(response: DebugProtocol.RestartResponse): void {
    this.#answer(response, async () => this.#stopped(await this.#replay().restart(), 'entry'));
  }

  /**
   * The stepper, for a replay: the editor is told every flow goes on first, so that what it
   * shows of the stop being left (the finding's exception widget among it) goes with it.
   */
  #replay(): Stepper {
    const stepper = this.#session();
    this.sendEvent(new ContinuedEvent(1, true));
    return stepper;
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    // The program only ever runs between two decisions, for a moment: it is always paused.
    this.sendResponse(response);
  }

  protected override customRequest(
    command: string,
    response: DebugProtocol.Response,
    args: unknown,
  ): void {
    if (command !== 'runFlowNext') {
      super.customRequest(command, response, args);
      return;
    }
    const threadId = (args as { threadId?: unknown } | undefined)?.threadId;
    if (typeof threadId !== 'number') {
      this.sendErrorResponse(response, 3001, 'runFlowNext needs the threadId of a flow');
      return;
    }
    this.#stepFlow(response, threadId);
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    this.#explorer?.close();
    this.sendResponse(response);
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.#explorer?.close();
    this.sendResponse(response);
    this.sendEvent(new Event('terminated'));
  }

  #session(): Stepper {
    if (!this.#stepper) throw new Refused('the program has not been launched');
    return this.#stepper;
  }

  #stepFlow(response: DebugProtocol.Response, threadId: number): void {
    this.#answer(response, async () =>
      this.#stopped(await this.#session().step(threadId), 'step', threadId),
    );
  }

  /**
   * Runs `work` after the work before it, and answers `response`: done, or refused with what
   * went wrong. One at a time, so that no request sees a run halfway through a decision.
   */
  #answer(response: DebugProtocol.Response, work: () => Promise<void>): void {
    this.#queue = this.#queue.then(async () => {
      try {
        await work();
        this.sendResponse(response);
      } catch (err) {
        this.sendErrorResponse(response, 3000, err instanceof Error ? err.message : String(err));
      }
    });
  }

  /**
   * Tells the editor where the run stands: stopped at a decision, or at its end. Before the stop,
   * the flows (for the code cursors) and the run's analysis at this decision (for the Problems
   * panel, the graph and the time line), so that the views have followed the step when the
   * editor shows it.
   */
  #stopped(view: StepView, reason: 'entry' | 'step', threadId?: number): void {
    this.#flushOutput();
    this.sendEvent(new Event('lockscope/flows', { step: view.step, flows: view.flows }));
    const analysis = this.#stepper?.analysis();
    if (analysis) this.sendEvent(new Event('lockscope/report', { step: view.step, ...analysis }));
    const result = view.result;
    const first = threadId ?? view.flows[0]?.id ?? 1;
    if (!result) {
      this.sendEvent(stoppedAt(reason, first, `decision ${view.step + 1}`));
      return;
    }
    const report = formatReport(result.report, {
      cwd: process.cwd(),
      color: false,
      readSource: readLines,
    });
    const failure = result.failure;
    if (failure) {
      const what =
        failure.kind === 'finding'
          ? failure.findings.map((f) => f.title).join('; ')
          : failure.kind === 'exit'
            ? `the program called process.exit(${failure.code})`
            : `the program threw: ${failure.error instanceof Error ? failure.error.message : 'a value that is not an Error'}`;
      this.#say(`\n${report}\n`);
      this.sendEvent(stoppedAt('exception', first, what));
    } else {
      this.#say(`\nThe run ended after ${view.step} decisions: ${report}\n`);
      this.sendEvent(stoppedAt('step', first, 'the run is over: step back or restart'));
    }
  }

  /** The program's output since the last stop, in the debug console. */
  #flushOutput(): void {
    const output = this.#explorer?.output() ?? '';
    if (output.length < this.#shownOutput) this.#shownOutput = 0;
    if (output.length > this.#shownOutput) {
      this.sendEvent(new OutputEvent(output.slice(this.#shownOutput), 'stdout'));
      this.#shownOutput = output.length;
    }
  }

  #say(text: string): void {
    this.sendEvent(new OutputEvent(text, 'console'));
  }
}

function readLines(file: string): string[] | undefined {
  try {
    return readFileSync(file, 'utf8').split(/\r?\n/);
  } catch {
    return undefined;
  }
}

function stoppedAt(reason: string, threadId: number, text: string): StoppedEvent {
  const e: DebugProtocol.StoppedEvent = new StoppedEvent(reason, threadId, text);
  e.body.description = text;
  e.body.allThreadsStopped = true;
  return e;
}

/** Checks a launch configuration where it enters: it is hand-written. */
export function checkLaunch(args: DebugProtocol.LaunchRequestArguments): LaunchArguments {
  const a = args as Partial<Record<keyof LaunchArguments, unknown>>;
  if (typeof a.program !== 'string' || a.program === '') {
    throw new Refused('the launch configuration needs "program": the file to step through');
  }
  if (
    a.args !== undefined &&
    !(Array.isArray(a.args) && a.args.every((x) => typeof x === 'string'))
  ) {
    throw new Refused('"args" must be a list of strings');
  }
  for (const key of ['cwd', 'schedule'] as const) {
    if (a[key] !== undefined && typeof a[key] !== 'string')
      throw new Refused(`"${key}" must be a path`);
  }
  if (a.strategy !== undefined && !STRATEGIES.includes(a.strategy as StrategyName)) {
    throw new Refused(`"strategy" must be one of ${STRATEGIES.join(', ')}`);
  }
  if (a.seed !== undefined && !(typeof a.seed === 'number' && Number.isSafeInteger(a.seed))) {
    throw new Refused('"seed" must be a whole number');
  }
  if (a.timers !== undefined && a.timers !== 'any' && a.timers !== 'ordered') {
    throw new Refused('"timers" must be "any" or "ordered"');
  }
  return args as LaunchArguments;
}

/**
 * Serves one session on stdin and stdout. The protocol gets a stream of its own on descriptor 1:
 * the program's writes to `process.stdout` are captured for the debug console instead.
 */
export function serveDebugAdapter(): void {
  const session = new LockscopeDebugSession();
  session.start(process.stdin, createWriteStream('', { fd: 1 }));
}
