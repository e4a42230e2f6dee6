/**
 * How many times a loop test runs. `npm test` runs the short form of every loop; `npm run
 * test:long` sets LOCKSCOPE_TEST_LOOPS=long and runs the long form (stress loops, huge traces,
 * property and exploration counts). A run of one test file by hand gets the short form.
 */
export const LONG = process.env.LOCKSCOPE_TEST_LOOPS === 'long';

/** `short` under `npm test`, `long` under `npm run test:long`. */
export function loops(short: number, long: number): number {
  return LONG ? long : short;
}
