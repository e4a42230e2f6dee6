/**
 * The first thing `lockscope/register` runs, before the probe loads: a mark that the probe was
 * loaded by register (before the program, to observe the packages it uses), so that with nothing
 * to record it leaves identity tracking off until an operation needs it (startup.ts). An ES
 * module's imports run in order, so importing this before the probe's entry is enough.
 */
(globalThis as Record<symbol, unknown>)[Symbol.for('lockscope.register')] = true;
