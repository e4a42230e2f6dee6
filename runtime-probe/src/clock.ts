/**
 * The probe's own clock and timers, the real ones, captured when the probe loads. A program's
 * test suite may install fake timers (`@sinonjs/fake-timers` replaces `setImmediate`,
 * `setTimeout`, `setInterval`, `Date` and `performance`): the probe's flushes, heartbeats,
 * watchdogs and timestamps must neither stop when the fake clock stands still nor bend with it.
 * Kept on the thread's runtime, so that a second build of the probe loaded later (after the fakes
 * went in) uses the first one's capture.
 *
 * What the program asks for (a lock's `timeout`, a `select` timeout) uses the timers the program
 * sees, looked up at the call: that is the program's time, which its tests control.
 */
import { shared } from './runtime.js';

export interface Clock {
  /** Milliseconds since the time origin, as `performance.now()`. */
  now: () => number;
  /** The epoch milliseconds of the time origin, as `performance.timeOrigin`. */
  timeOrigin: number;
  setImmediate: typeof setImmediate;
  setTimeout: typeof setTimeout;
  setInterval: typeof setInterval;
  clearInterval: typeof clearInterval;
}

export const clock: Clock = shared('clock', () => {
  const perf = globalThis.performance;
  return {
    now: perf.now.bind(perf),
    timeOrigin: perf.timeOrigin,
    setImmediate: globalThis.setImmediate,
    setTimeout: globalThis.setTimeout,
    setInterval: globalThis.setInterval,
    clearInterval: globalThis.clearInterval,
  };
});
