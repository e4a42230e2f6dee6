/**
 * Every word the analysis says: each finding kind's title, message and advice, and the phrases
 * of its sites. The finding modules (findings/) decide what holds and pass plain names and numbers
 * here; the CLI, the extension and the webview show these words as they come and decide nothing
 * by reading them (they use kinds and site codes).
 */
import type { FindingPattern, UncertaintyReason } from './types.js';

/** Task names in a sentence, comma-separated, in the order the finding gives them. */
const list = (names: readonly string[]): string => names.join(', ');
const plural = (n: number, one: string, many: string): string => (n > 1 ? many : one);

export const deadlockWords = {
  title: (tasks: number): string => `Deadlock: ${tasks} tasks wait for each other in a cycle`,
  message: (steps: readonly string[]): string => `Deadlock: ${steps.join('; ')}.`,
  avertedTitle: (victim: string): string =>
    `Deadlock averted: ${victim}'s wait would have closed a cycle`,
  averted: (steps: readonly string[]): string => `Deadlock averted: ${steps.join('; ')}.`,
  timedOutTitle: (task: string): string => `Deadlock broken: ${task} gave up waiting`,
  boundedTitle: (tasks: number): string =>
    `Deadlock unless a wait gives up: ${tasks} tasks wait for each other`,
  bounded: (steps: readonly string[]): string =>
    `Deadlock unless a wait with a timeout or an AbortSignal gives up: ${steps.join('; ')}.`,
  timedOut: (steps: readonly string[]): string => `Deadlock until a timeout: ${steps.join('; ')}.`,
  joins: (from: string, to: string): string => `${from} joins ${to}`,
  queuedBehind: (from: string, res: string, to: string, writes: boolean): string =>
    `${from} waits for ${res} behind ${to}, who waits to ${writes ? 'write' : 'read'} first`,
  heldBy: (from: string, res: string, to: string): string =>
    `${from} waits for ${res}, held by ${to}`,
  signalledBy: (from: string, res: string, to: string): string =>
    `${from} waits on ${res}, which only ${to} would signal`,
  joinsChannel: (from: string, res: string, to: string): string =>
    `${from} joins ${res}, whose values only ${to} would mark done`,
  fix: {
    averted: (victim: string, then: string): string =>
      `Fail-fast refused ${victim}'s wait with a DeadlockError, which names the cycle in ` +
      `error.cycle: catch it, release what ${victim} holds and retry. ${then}`,
    bounded: (then: string): string =>
      'These tasks stay stuck until one of the waits gives up, if it ever does (a timeout, or ' +
      `an AbortSignal that something aborts). ${then}`,
    timedOut: (task: string, then: string): string =>
      `The cycle lasted until ${task}'s wait gave up (its timeout or AbortSignal), and it can ` +
      `form again. ${then}`,
    rwReentry: (res: string): string =>
      `Do not take ${res} again while holding it: a writer-preferring lock makes a second read ` +
      'wait behind a waiting writer. Take the lock once and pass down what you read (or create ' +
      "it with `policy: 'fair'` knowingly).",
    lockOrder: (order: readonly string[]): string =>
      `Take the locks in one global order (for example always ${order.join(' before ')}), ` +
      'or acquire with a timeout and back off.',
    permits: (res: string): string =>
      `Do not ask ${res} for more permits while holding some: take what a task needs in one ` +
      'acquisition, or release what it holds before asking again.',
    signal:
      'Make sure the task that would wake the others is not itself waiting for them: ' +
      'release locks before waiting on a channel or condition, or close the channel.',
    channelJoin:
      'A join waits until every value sent is marked done: call taskDone() once for every ' +
      'value received, in a finally block, before waiting for the next one.',
  },
};

/** A task that signalled a resource before and now waits for `joins` to end. */
export interface Parked {
  name: string;
  joins: string;
}

/**
 * "is left to <act>", or, when the tasks that did it before now wait for others to end, "will
 * <act> again: main, which <did>, waits for consumer to finish".
 */
function leftOrParked(parked: readonly Parked[], act: string, did: string): string {
  if (!parked.length) return `is left to ${act}`;
  const each = parked.map(
    (p) => `${p.name}, which ${did}, waits for ${p.joins || 'a task'} to finish`,
  );
  return `will ${act} again: ${each.join('; ')}`;
}

/** Why a task is blocked forever and what to do, by the kind of resource it waits on. */
export const blockedForeverWords = {
  title: (tasks: number, res: string, pattern?: FindingPattern): string =>
    `Blocked forever: ${tasks} ${plural(tasks, 'task waits', 'tasks wait')} ` +
    (pattern === 'missing-party'
      ? `at ${res} for a party that will never arrive`
      : pattern === 'no-sender'
        ? `to receive from ${res}, which nothing will feed or close`
        : `on ${res}`),
  message: (who: readonly string[], why: string): string =>
    `Blocked forever: ${list(who)} ${plural(who.length, 'waits', 'wait')} ${why}. The program ` +
    `went idle with ${plural(who.length, 'it', 'them')} still waiting.`,
  channelSend: (res: string, parked: readonly Parked[]): [string, string] => [
    `to send on ${res}, and no task ${leftOrParked(parked, 'receive from it', 'received from it')}`,
    'Make sure a consumer keeps receiving until the producers are done, or give the channel room.',
  ],
  channelRecv: (res: string, parked: readonly Parked[]): [string, string] => [
    `to receive from ${res}, and no task ${leftOrParked(parked, 'send to it or close it', 'sent to it')}`,
    parked.length
      ? 'Close the channel when the producers are done (channel.close()), before waiting for ' +
        'the tasks that receive from it.'
      : 'Close the channel when the producers are done (channel.close()), so that receivers finish.',
  ],
  channelJoin: (res: string, parked: readonly Parked[]): [string, string] => [
    `for every value sent to ${res} to be marked done, and no task ` +
      leftOrParked(parked, 'call taskDone() for it', 'received from it'),
    'Call taskDone() once for every value received, in a finally block, and keep a task ' +
      'receiving until every value sent is done.',
  ],
  condition: (res: string, parked: readonly Parked[]): [string, string] => [
    `on ${res}, and no task ${leftOrParked(parked, 'notify it', 'notified it')}`,
    'Notify after every change of the state the waiters check, and wait with waitFor(predicate).',
  ],
  barrier: (
    res: string,
    missing: readonly { name: string; ended: boolean }[],
  ): [string, string] => [
    missing.length
      ? `at ${res}, and the other parties will never arrive: ${missing
          .map((m) => `${m.name} arrived in an earlier phase${m.ended ? ' and has ended' : ''}`)
          .join('; ')}`
      : `at ${res}, and the other parties will never arrive`,
    'Make every party reach the barrier in each phase, or break it with abort() when one leaves.',
  ],
  event: (res: string, parked: readonly Parked[]): [string, string] => [
    `for ${res}, and no task ${leftOrParked(parked, 'set it', 'set it before')}`,
    'Set the event on every path, including errors, or wait with a timeout.',
  ],
  waitGroup: (res: string): [string, string] => [
    `for ${res}, whose count will never reach zero`,
    'Call done() once for each add(), in a finally block.',
  ],
  join: (res: string): [string, string] => [
    `for ${res} to end, and it never will`,
    'Make sure the joined task can finish: it must not wait for its joiner.',
  ],
  lock: (res: string, holders: readonly string[]): [string, string] => [
    holders.length
      ? `for ${res}, held by ${list(holders)}, which will never release it`
      : `for ${res}, and no task is left to release it`,
    'Release on every path (a `using` declaration), and do not wait while holding.',
  ],
};

/** Said after the message of an uncertain finding, by reason code. */
export const certaintyWords = {
  why: (reasons: readonly UncertaintyReason[]): string => {
    const parts = reasons.map((r) =>
      r === 'identity'
        ? 'Lockscope could not tell every flow involved apart exactly (shown with ?)'
        : 'events were lost before this was found',
    );
    return `This finding is uncertain: ${parts.join(', and ')}, so it may not be real.`;
  },
};

/** A process as a person reads it, in the CLI's report, the tree and the time line. */
export const processWords = {
  /** Its script's file name (else its title) and its pid: `worker.ts (4242)`. */
  name(p: { pid: number; title: string; script?: string | undefined }): string {
    // Split by hand: this also runs in the browser, without node:path.
    const script = p.script?.split(/[\\/]/).pop();
    return `${script || p.title} (${p.pid})`;
  },
  /** What a report says of a process started by another process of the same session. */
  startedBy: (parent: string): string => `started by ${parent}`,
  /** How it ended; a process killed by a signal (a stop), or still running, sends no status. */
  status: (exitCode: number | undefined): string =>
    exitCode === undefined ? 'no exit status seen' : `exited with ${exitCode}`,
};

/** How a lock came to be abandoned (findings/abandoned-lock.ts decides it; here are its words). */
export type AbandonCause =
  'returned' | 'threw' | 'thread-ended' | 'guard-collected' | 'nothing-to-run';

export const abandonedWords = {
  title: (res: string, holder: string, cause: AbandonCause): string =>
    cause === 'thread-ended'
      ? `Abandoned lock: ${holder} held ${res} when its thread ended`
      : `Abandoned lock: ${res} is still held by ${holder}, which ended`,
  message: (holder: string, res: string, cause: AbandonCause, waiters: readonly string[]): string =>
    `Abandoned lock: ${holder} ended without releasing ${res} (${abandonedWords.why[cause]})` +
    (waiters.length
      ? `; ${list(waiters)} ${plural(waiters.length, 'waits', 'wait')} for it.`
      : '.'),
  fix: (cause: AbandonCause): string =>
    cause === 'thread-ended'
      ? 'Release the lock before the thread can end (a `using` declaration, or `finally`), and ' +
        'where the lock is taken next, check `guard.ownerDied` and repair the state it protects.'
      : 'Hold the guard in a `using` declaration (or release it in `finally`), so that the lock ' +
        'is released however the block ends.',
  why: {
    returned: 'it returned',
    threw: 'it threw while holding it',
    'thread-ended': 'its thread ended while holding it',
    'guard-collected': 'its guard was garbage collected',
    'nothing-to-run': 'it has nothing left to run',
  } satisfies Record<AbandonCause, string>,
};

interface SelfDeadlockWords {
  title(task: string, res: string): string;
  message(task: string, res: string): string;
  fix(res: string): string;
}

const selfDeadlockLock: SelfDeadlockWords = {
  title: (task, res) => `Self-deadlock: ${task} waits for ${res}, which it holds`,
  message: (task, res) => `Self-deadlock: ${task} waits for ${res}, which it already holds.`,
  fix: () =>
    'Release the lock before taking it again, or restructure so the inner code receives ' +
    'the guard; use a ReentrantMutex only if re-entry is really intended.',
};

/** A lock whose acquiring function returned without releasing it (findings/left-held.ts). */
export const leftHeldWords = {
  title: (fn: string, res: string): string =>
    `Lock left held: ${fn} returned without releasing ${res}`,
  selfDeadlock: (task: string, res: string, fn: string): string =>
    `Self-deadlock: ${task} waits for ${res}, which it still holds: it acquired ${res} in ` +
    `${fn}, and ${fn} returned without releasing it.`,
  heldBy: (from: string, res: string, to: string, fn: string): string =>
    `${from} waits for ${res}, held by ${to} (not released when ${fn} returned)`,
  site: (task: string, res: string, fn: string): string =>
    `${task} acquired ${res} here and did not release it when ${fn} returned`,
  fix: (res: string, fn: string): string =>
    `Release ${res} on every path out of ${fn}, early returns included: hold the guard in a ` +
    `\`using\` declaration (or release it in \`finally\`). If ${fn} keeps the lock for its ` +
    'caller on purpose (a lock helper), mark its module as library code (`configure({ library })` ' +
    'or `"lockscope": { "library": [...] }` in package.json).',
};

export const selfDeadlockWords = {
  /** Said after the message when the wait has a timeout or an AbortSignal. */
  givesUp:
    'Its wait has a timeout or an AbortSignal, so it fails when that fires instead of ' +
    'hanging; it can never succeed.',
  /** The words for a self-deadlock of this pattern (or none), on a read-write lock or another. */
  of: (pattern: FindingPattern | undefined, rwlock: boolean): SelfDeadlockWords =>
    pattern === 'rw-upgrade'
      ? selfDeadlockWords.upgrade
      : pattern === 'read-under-write'
        ? selfDeadlockWords.readUnderWrite
        : rwlock
          ? selfDeadlockWords.rwlock
          : selfDeadlockLock,
  upgrade: {
    title: (task, res) => `Upgrade: ${task} asks to write ${res} while it holds it for reading`,
    message: (task, res) =>
      `Read-to-write upgrade: ${task} holds ${res} for reading and asks to write it. A write ` +
      'waits until every read is released, its own included, so it waits forever.',
    fix: (res) =>
      `Release the read lock on ${res} before asking to write, then check again under the ` +
      'write lock (another task may have written in between); or take the write lock from the ' +
      'start when the read may lead to a write.',
  } satisfies SelfDeadlockWords,
  readUnderWrite: {
    title: (task, res) => `Read under write: ${task} asks to read ${res} while it writes it`,
    message: (task, res) =>
      `Read under its own write lock: ${task} holds ${res} for writing and asks to read it. ` +
      'A read waits until the write is released, even the writer’s own, so it waits forever.',
    fix: () =>
      'A read-write lock is not re-entrant in either mode: pass what the inner code reads ' +
      'down to it, or give it a variant for callers that already hold the lock.',
  } satisfies SelfDeadlockWords,
  rwlock: {
    ...selfDeadlockLock,
    fix: () =>
      'A read-write lock is not re-entrant in either mode: pass what the inner code needs ' +
      'instead of taking the lock again, or give it a variant for callers that hold the lock.',
  } satisfies SelfDeadlockWords,
};

export const misuseWords = {
  title: (res: string, what: string): string => `Misuse of ${res}: ${what}`,
  /** The message and the advice for each misuse code of the protocol. */
  explain: (what: string, task: string, res: string): [string, string] => {
    switch (what) {
      case 'release-not-held':
        return [
          `${task} released ${res}, which it does not hold (a double release).`,
          'Release each acquisition exactly once: hold the guard in a `using` declaration.',
        ];
      case 'release-by-non-owner':
        return [
          `${task} released ${res}, which another task holds.`,
          'Release a lock from the task that acquired it; to hand work over, use a channel.',
        ];
      case 'over-release':
        return [
          `${task} released ${res} beyond its initial count.`,
          'Release only permits that were acquired, through the guard that acquire() returned.',
        ];
      case 'wait-without-lock':
        return [
          `${task} waited on or notified ${res} without holding its mutex.`,
          'Acquire the condition’s mutex before wait() or notify(), and check the state under it.',
        ];
      case 'unbalanced-release':
        return [
          `${task} released ${res} more times than it acquired it.`,
          'Pair every acquisition with one release, through its guard.',
        ];
      case 'extra-task-done':
        return [
          `${task} called taskDone() on ${res} more times than values were received from it.`,
          'Call taskDone() exactly once per value received, in a finally block after the work.',
        ];
      default:
        return [`${task} misused ${res}: ${what}.`, ''];
    }
  },
};

export const longHoldWords = {
  title: (res: string, ms: number): string => `Long hold: ${res} held for ${ms} ms`,
  message: (holder: string, res: string, ms: number, limitMs: number): string =>
    `Long hold: ${holder} held ${res} for ${ms} ms (the limit is ${limitMs} ms).`,
  fix:
    'Do slow work (I/O, timers, long loops) outside the critical section: copy what is ' +
    'needed under the lock, release it, then work.',
};

export const starvationWords = {
  title: (task: string, res: string): string =>
    `Starvation: ${task} waits for ${res} while others take it`,
  message: (task: string, waitedMs: number, res: string, grants: number): string =>
    `Starvation: ${task} has waited ${waitedMs} ms for ${res} while it was granted ` +
    `${grants} times to others.`,
  fix: {
    fifo: 'Use a fair (FIFO) primitive, or bound how long each holder keeps it.',
    starvedReader:
      "Create the lock with `policy: 'fair'`, so that readers and writers are served in " +
      'the order they arrive, or write less often.',
    starvedWriter:
      "Keep the default `policy: 'writer-preferring'` (or use 'fair'), so that new " +
      'readers queue behind a waiting writer.',
  },
};

export const livelockWords = {
  title: (a: string, b: string): string => `Livelock: ${a} and ${b} retry without progress`,
  message: (a: string, b: string, resA: string, resB: string, failsA: number, failsB: number) =>
    `Livelock: ${a} and ${b} keep retrying ${resA} and ${resB} (${failsA} and ${failsB} failed ` +
    'attempts in a row) without either making progress.',
  fix:
    'Back off for a random, growing time before retrying, so that one task wins; or take ' +
    'the locks in one global order and block instead of trying.',
};

export const inversionWords = {
  title: (resources: readonly string[]): string =>
    `Lock-order inversion: ${resources.join(' and ')} are taken in opposite orders`,
  step: (task: string, first: string, then: string): string => `${task} took ${first} then ${then}`,
  message: (steps: readonly string[]): string =>
    `Lock-order inversion: ${steps.join('; ')}. If these run at the same time they can ` +
    'deadlock, even though this run did not.',
  fix: (order: readonly string[]): string =>
    `Take these locks in one global order everywhere (for example ${order.join(' before ')}), ` +
    'or take them together under one gate lock.',
};

/** What happens at a site, in words (its code is `SiteRef.act`). */
export const siteWords = {
  waitsFor: (task: string, res: string): string => `${task} waits for ${res}`,
  waitsOn: (task: string, res: string): string => `${task} waits on ${res}`,
  waitsAgain: (task: string, res: string): string => `${task} waits for ${res} again`,
  asksTo: (task: string, mode: 'read' | 'write', res: string): string =>
    `${task} asks to ${mode} ${res}`,
  acquiredFor: (task: string, res: string, mode: 'reading' | 'writing'): string =>
    `${task} acquired ${res} for ${mode} here`,
  acquired: (task: string, res: string): string => `${task} acquired ${res}`,
  /**
   * The last signal of a task the waiter counts on; `byReceiving`: the waiter counts on the
   * channel's receivers (it waits to send, or to join).
   */
  signalled: (task: string, res: string, kind: string, byReceiving: boolean): string =>
    kind === 'channel'
      ? `${task} ${byReceiving ? 'received from' : 'sent to'} ${res}`
      : kind === 'condition' || kind === 'shared-condition'
        ? `${task} notified ${res}`
        : kind === 'event'
          ? `${task} set ${res}`
          : kind === 'barrier' || kind === 'shared-barrier'
            ? `${task} arrived at ${res}`
            : `${task} signalled ${res}`,
  acquiredHere: (task: string, res: string): string => `${task} acquired ${res} here`,
  neverReleased: (task: string, res: string): string =>
    `${task} acquired ${res} here and never released it`,
  holds: (task: string, res: string): string => `${task} holds ${res}`,
  failsToTake: (task: string, res: string): string => `${task} fails to take ${res}`,
  takesFirst: (task: string, res: string): string => `${task} takes ${res} first`,
  takesThen: (task: string, res: string): string => `${task} then takes ${res}`,
  misuse: (task: string, what: string): string => `${task}: ${what}`,
  acquires: (res: string): string => `acquires ${res}`,
  timeline: (lane: string, hold: boolean, res: string): string =>
    `${lane} ${hold ? 'holds' : 'waits for'} ${res}`,
};
