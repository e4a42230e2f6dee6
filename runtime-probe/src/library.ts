/**
 * Library code: files whose frames a finding's sites skip, so that a program that wraps the
 * primitives in a helper module (a Go-style layer, a domain lock manager) sees its findings on
 * its own lines. Marked by `configure({ library: [globs] })` or by a `"lockscope": { "library":
 * [globs] }` field in a package.json (each thread reads the nearest one above its own script).
 *
 * A glob is matched against a frame's absolute file path; a relative glob is relative to the
 * folder of the package.json that names it (or, from `configure`, to the working folder).
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import picomatch from 'picomatch';

/** Limits on what a package.json or configure() may ask for, applied before it is trusted. */
export const MAX_LIBRARY_GLOBS = 100;
const MAX_GLOB_LENGTH = 1000;

export type LibraryMatch = (path: string) => boolean;

const nothing: LibraryMatch = () => false;

/**
 * Checks a list of globs; returns the problem in words, or undefined when it is fine. The words
 * name `source` (where the list came from).
 */
export function libraryProblem(globs: unknown, source: string): string | undefined {
  if (!Array.isArray(globs)) return `${source} must be an array of glob strings`;
  if (globs.length > MAX_LIBRARY_GLOBS) {
    return `${source} has ${globs.length} globs; at most ${MAX_LIBRARY_GLOBS} are allowed`;
  }
  for (const g of globs) {
    if (typeof g !== 'string' || g === '' || g.length > MAX_GLOB_LENGTH) {
      return `${source} must hold non-empty glob strings of at most ${MAX_GLOB_LENGTH} characters`;
    }
  }
  return undefined;
}

/** A matcher for `globs`, relative ones taken from `base`. */
export function libraryMatcher(globs: readonly string[], base: string): LibraryMatch {
  if (globs.length === 0) return nothing;
  const absolute = globs.map((g) =>
    isAbsolute(g) || g.startsWith('**') ? g : join(resolve(base), g),
  );
  return picomatch(absolute, { dot: true, windows: false });
}

/**
 * The library globs of the program's package.json: the nearest one at or above `startDir` that
 * has a `lockscope` field. Returns its globs and folder, or a problem to report once.
 */
export function packageLibrary(
  startDir: string,
): { globs: string[]; base: string } | { problem: string } | undefined {
  for (let dir = resolve(startDir); ; dir = dirname(dir)) {
    let text: string | undefined;
    try {
      text = readFileSync(join(dir, 'package.json'), 'utf8');
    } catch {
      text = undefined;
    }
    if (text !== undefined) {
      let field: unknown;
      try {
        field = (JSON.parse(text) as { lockscope?: unknown }).lockscope;
      } catch {
        field = undefined;
      }
      if (field !== undefined) {
        const globs =
          typeof field === 'object' && field !== null && 'library' in field
            ? field.library
            : undefined;
        if (globs === undefined) return undefined;
        const source = `"lockscope.library" in ${join(dir, 'package.json')}`;
        const problem = libraryProblem(globs, source);
        return problem ? { problem } : { globs: globs as string[], base: dir };
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}
