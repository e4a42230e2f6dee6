/**
 * Fail-fast deadlock detection: with `configure({ failFast: true })` (or LOCKSCOPE_FAIL_FAST=1),
 * an acquisition that would close a cycle of waits rejects with a DeadlockError at once, the way
 * a database chooses a deadlock victim, instead of hanging. The victim is the task whose request
 * closes the cycle; it has acquired nothing by this call, so it can release what it holds, back
 * off and retry.
 *
 * A mutex (re-entrant or not) has one owner, so the waits from a request form a chain:
 * following it costs one step per task on the chain, whatever the size of the program.
 */
import { DeadlockError } from '../errors.js';
import { resolved } from '../identity.js';
import { shared, type Flow, type ResourceRec } from '../runtime.js';
import { whenDecided } from '../runs.js';

/** What fail-fast detection needs from a lock: its resource and the flow that holds it. */
export interface OwnedLock {
  readonly resource: ResourceRec;
  holderFlow(): Flow | undefined;
}

// Shared by both builds, so that a cycle through locks of the ESM and CJS builds is seen whole.
const waiting = shared('fail-fast-waits', () => new WeakMap<Flow, OwnedLock>());

/**
 * Returns the DeadlockError to reject with if `flow` waiting for `lock` would close a cycle, or
 * undefined.
 */
export function wouldDeadlock(flow: Flow, lock: OwnedLock): DeadlockError | undefined {
  const me = resolved(flow);
  // A flow whose identity is uncertain could be two flows: a cycle through it may not be one.
  if (me.uncertain) return undefined;
  const steps: string[] = [];
  const seen = new Set<OwnedLock>();
  for (let current: OwnedLock | undefined = lock; current && !seen.has(current);) {
    seen.add(current);
    const h = current.holderFlow();
    if (!h) return undefined;
    const holder = resolved(h);
    if (holder.uncertain) return undefined;
    if (holder.id === me.id) {
      steps.push(`${current.resource.name} is held by ${me.name} itself`);
      return new DeadlockError(
        `${me.name} cannot wait for ${lock.resource.name} without deadlocking: ` +
          `${steps.join(', ')}. It was chosen as the victim; it acquired nothing by this call, ` +
          'so it can release what it holds and retry.',
      );
    }
    steps.push(`${current.resource.name} is held by ${holder.name}, which waits`);
    current = waiting.get(holder);
    if (current) steps[steps.length - 1] += ` for ${current.resource.name}`;
  }
  return undefined;
}

/**
 * Judges a wait that has just been queued: fails it with a DeadlockError if it closes a cycle
 * (calling `onVictim`), and otherwise records it until `until` settles. A provisional flow is
 * judged once its synchronous run has decided who it is (runs.ts): judged too early, a flow of
 * its own could pass for its caller and make a false cycle.
 */
export function judgeWait(
  flow: Flow,
  lock: OwnedLock,
  waiter: { fail(error: unknown): boolean },
  until: Promise<unknown>,
  onVictim: () => void,
): void {
  const judge = (): void => {
    const victim = wouldDeadlock(flow, lock);
    if (victim) {
      if (waiter.fail(victim)) onVictim();
      return;
    }
    const me = resolved(flow);
    waiting.set(me, lock);
    const done = (): void => {
      if (waiting.get(me) === lock) waiting.delete(me);
    };
    until.then(done, done);
  };
  whenDecided(flow, judge);
}
