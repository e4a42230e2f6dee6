/**
 * Errors a user can catch by class.
 *
 * A process may hold several copies of these classes (two installed versions of the package, or
 * a bundler's copy beside the package's own). So that `err instanceof TimeoutError` holds
 * whichever copy threw it, each class carries a brand (a registered symbol, the same in every
 * copy) and answers `instanceof` by that brand.
 */

const BRAND = Symbol.for('lockscope.error.brand');

type Branded = { [BRAND]?: readonly string[] };

function brandedInstanceOf(name: string, value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const brands = (value as Branded)[BRAND];
  return Array.isArray(brands) && brands.includes(name);
}

/** The base class of every error the probe throws. */
export class LockscopeError extends Error {
  /** Recognises errors of every copy of the package loaded in the process. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return brandedInstanceOf(this.name, value);
  }

  /** An error of the class it is made with; `name` is that class's name. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    const brands: string[] = [];
    for (
      let proto: object | null = new.target;
      proto && proto !== Error;
      proto = Object.getPrototypeOf(proto) as object | null
    ) {
      brands.push((proto as { name: string }).name);
    }
    Object.defineProperty(this, BRAND, { value: Object.freeze(brands) });
  }
}

/** A blocking call did not complete within its `timeout`. */
export class TimeoutError extends LockscopeError {
  /** `timeoutMs` is the timeout the call was given. */
  constructor(
    message: string,
    readonly timeoutMs: number,
  ) {
    super(message);
  }
}

/**
 * A blocking call was cancelled by its `AbortSignal`. Following the web convention, `name` is
 * "AbortError" and `cause` is the signal's reason.
 */
export class AbortError extends LockscopeError {
  /** Pass the signal's reason as `options.cause`. */
  constructor(message = 'The operation was aborted', options?: ErrorOptions) {
    super(message, options);
  }
}

/** The barrier was broken (a party timed out, was aborted, or `abort()` was called). */
export class BrokenBarrierError extends LockscopeError {}

/** Sending on a closed channel, or receiving from a closed and drained one where that throws. */
export class ChannelClosedError extends LockscopeError {}

/** A primitive was used against its contract: double release, release by a non-owner, … */
export class LockMisuseError extends LockscopeError {}

/**
 * The previous holder of a shared lock ended (its thread exited or crashed) while holding it, and
 * the lock was made with `onOwnerDead: 'error'`. The lock is not taken.
 */
export class AbandonedLockError extends LockscopeError {}

/** One wait of a cycle that fail-fast refused to close. */
export interface DeadlockStep {
  /** The task that waits (the first step's is the victim). */
  readonly task: string;
  /** The lock it waits for. */
  readonly resource: string;
  /** The next task of the cycle: it holds the lock, or goes first for it. */
  readonly blockedBy: string;
  /** True when `blockedBy` does not hold the lock but waits for it and is served first. */
  readonly ahead: boolean;
  /** Where the task asked for the lock, when the probe captured it. */
  readonly site?: { readonly file: string; readonly line: number; readonly column: number };
}

/**
 * An acquisition would close a cycle of waits (fail-fast mode, chosen as the victim). `cycle`
 * is the cycle as data, from the victim's own wait around back to it.
 */
export class DeadlockError extends LockscopeError {
  /** The cycle, from the refused wait around back to it. */
  readonly cycle: readonly DeadlockStep[];

  /** Made by the probe when it refuses an acquisition. */
  constructor(message: string, cycle: readonly DeadlockStep[] = [], options?: ErrorOptions) {
    super(message, options);
    this.cycle = cycle;
  }
}

/** Rejects the error a blocking call raises when its signal aborts. */
export function abortErrorFor(signal: AbortSignal, what: string): AbortError {
  return new AbortError(`${what} was aborted`, { cause: signal.reason });
}
