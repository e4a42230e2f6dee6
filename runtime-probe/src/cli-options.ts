/**
 * The command line's checks of its options, where they enter, and its two kinds of refusal.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { FINDING_KINDS, type Finding, type FindingKind } from './analysis/types.js';

/** A mistake in the command line: exit 2 with the message and the usage. */
export class UsageError extends Error {}

/** A problem that is not the user's command line: exit 2 with the message, without the usage. */
export class Refusal extends Error {}

export function positiveNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new UsageError(`--${name} must be a positive number, got "${value}"`);
  }
  return n;
}

export function wholeNumber(name: string, value: string | undefined): number | undefined {
  const n = positiveNumber(name, value);
  if (n !== undefined && !Number.isInteger(n)) {
    throw new UsageError(`--${name} must be a whole number, got "${value}"`);
  }
  return n;
}

/** Timers cannot wait longer than 2^31 - 1 ms; a longer --timeout would fire at once. */
export function timeoutSeconds(value: string | undefined): number | undefined {
  const s = positiveNumber('timeout', value);
  if (s !== undefined && s * 1000 > 0x7fffffff) {
    throw new UsageError(`--timeout must be at most ${Math.floor(0x7fffffff / 1000)} seconds`);
  }
  return s;
}

export function parseFailOn(value: string | undefined): ((f: Finding) => boolean) | undefined {
  if (value === undefined) return undefined;
  if (value === 'none') return () => false;
  const kinds = value.split(',').map((k) => k.trim());
  for (const k of kinds) {
    if (!(FINDING_KINDS as readonly string[]).includes(k)) {
      throw new UsageError(
        `--fail-on: unknown finding kind "${k}"; the kinds are ${FINDING_KINDS.join(', ')}, or none`,
      );
    }
  }
  const set = new Set(kinds as FindingKind[]);
  return (f) => set.has(f.kind);
}

/**
 * Checks the output files before a run, which may be long: a report that cannot be written at
 * its end would be lost with the run.
 */
export function checkOutputs(common: {
  sarif: string | undefined;
  trace: string | undefined;
  html: string | undefined;
}): void {
  for (const [flag, file] of [
    ['--sarif', common.sarif],
    ['--trace', common.trace],
    ['--html', common.html],
  ] as const) {
    if (!file) continue;
    const path = resolve(file);
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
      throw new UsageError(`${flag} ${file}: that is a folder; give a file name`);
    }
    try {
      accessSync(dirname(path), constants.W_OK);
    } catch {
      throw new UsageError(
        `${flag} ${file}: the folder ${dirname(path)} does not exist or cannot be written`,
      );
    }
  }
}
