// Helpers shared by the primitives unit tests (test/unit/primitives-*.test.ts).
import assert from 'node:assert/strict';
import {
  AbortError,
  configure,
  LockscopeError,
  TimeoutError,
} from '../../runtime-probe/src/index.js';

/** Lets every pending promise continuation run (setImmediate runs after the microtask queue). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Wraps a promise so a test can ask whether it has settled yet. */
export function watch<T>(p: Promise<T>): { settled: () => boolean; promise: Promise<T> } {
  let settled = false;
  const promise = p.then(
    (value) => {
      settled = true;
      return value;
    },
    (err: unknown) => {
      settled = true;
      throw err;
    },
  );
  return { settled: () => settled, promise };
}

/** Asserts that `p` rejects with a TimeoutError that reports the timeout `ms`. */
export async function rejectsTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof TimeoutError, `expected a TimeoutError, got ${String(err)}`);
    assert.ok(err instanceof LockscopeError);
    assert.equal(err.name, 'TimeoutError');
    assert.equal(err.timeoutMs, ms);
    return true;
  });
}

/** Asserts that `p` rejects with an AbortError whose cause is the signal's `reason`. */
export async function rejectsAbort(p: Promise<unknown>, reason: unknown): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AbortError, `expected an AbortError, got ${String(err)}`);
    assert.ok(err instanceof LockscopeError);
    assert.equal(err.name, 'AbortError');
    assert.equal(err.cause, reason);
    return true;
  });
}

/** Runs `fn` with fail-fast detection on, and turns it off again however `fn` ends. */
export async function withFailFast(fn: () => Promise<void>): Promise<void> {
  configure({ failFast: true });
  try {
    await fn();
  } finally {
    configure({ failFast: false });
  }
}
