/**
 * The implementations the async-mutex compatibility tests run against: the real async-mutex, in
 * both of its builds, and lockscope/async-mutex. A test passes for all of them or shows where
 * lockscope's differs, which is a bug in lockscope's.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as lockscope from '../../runtime-probe/src/async-mutex/index.js';

export type Api = Pick<
  typeof lockscope,
  | 'Mutex'
  | 'Semaphore'
  | 'withTimeout'
  | 'tryAcquire'
  | 'E_TIMEOUT'
  | 'E_ALREADY_LOCKED'
  | 'E_CANCELED'
>;

export interface Impl extends Api {
  name: string;
}

const require = createRequire(import.meta.url);

function impl(name: string, api: Api): Impl {
  const { Mutex, Semaphore, withTimeout, tryAcquire, E_TIMEOUT, E_ALREADY_LOCKED, E_CANCELED } =
    api;
  return {
    name,
    Mutex,
    Semaphore,
    withTimeout,
    tryAcquire,
    E_TIMEOUT,
    E_ALREADY_LOCKED,
    E_CANCELED,
  };
}

/** async-mutex's CommonJS build first: the reference the interleaving tests compare with. */
export const IMPLS: Impl[] = [
  impl('async-mutex (CommonJS)', require('async-mutex') as Api),
  impl('async-mutex (ES module)', (await import('async-mutex')) as unknown as Api),
  impl('lockscope/async-mutex', lockscope),
];

/** Lets every pending promise continuation run, on a timer the program's fakes do not replace. */
export const settle = (
  (immediate) => (): Promise<void> =>
    new Promise((r) => immediate(r))
)(setImmediate);

/** Waits `ms` milliseconds of real time, whatever timers a test installed. */
export const sleepReal = (
  (timeout) =>
  (ms: number): Promise<void> =>
    new Promise((r) => timeout(r, ms))
)(setTimeout);

/** A promise whose outcome a test can read without awaiting it. */
export function track<T>(p: Promise<T>): { state: () => string; value: () => T | undefined } {
  let state = 'pending';
  let value: T | undefined;
  p.then(
    (v) => {
      state = 'resolved';
      value = v;
    },
    (e: unknown) => {
      state = e instanceof Error ? `rejected: ${e.message}` : 'rejected';
    },
  );
  return { state: () => state, value: () => value };
}

/**
 * Runs `scenario` with a log and a ticker that notes every microtask turn, so that two
 * implementations' logs match only if every promise settles at the same turn (of the first 60).
 */
export async function interleaving(scenario: (log: string[]) => Promise<void>): Promise<string[]> {
  const log: string[] = [];
  let turn = 0;
  let stop = false;
  const tick = (): void => {
    // Bounded, so that a scenario that waits for a timer gets to it.
    if (stop || turn === 60) return;
    log.push(`turn ${turn++}`);
    void Promise.resolve().then(tick);
  };
  void Promise.resolve().then(tick);
  await scenario(log);
  stop = true;
  return log;
}

/** Asserts that every implementation's log of `scenario` is the reference's. */
export async function sameInterleaving(
  scenario: (api: Impl, log: string[]) => Promise<void>,
): Promise<void> {
  const [reference, ...others] = IMPLS;
  const expected = await interleaving((log) => scenario(reference!, log));
  assert.ok(
    expected.some((l) => !l.startsWith('turn')),
    'the scenario logged nothing',
  );
  for (const other of others) {
    const got = await interleaving((log) => scenario(other, log));
    assert.deepEqual(got, expected, `${other.name} settles at other turns than ${reference!.name}`);
  }
}
