/**
 * The version ranges adapters declare: `min` included, `below` excluded, compared by their
 * numeric major, minor and patch. A pre-release (`0.6.0-beta.1`) counts as its release, so a
 * range never admits a pre-release of the first version it excludes by accident: `below` is a
 * release the adapter was not tested with.
 */
export interface VersionRange {
  readonly min: string;
  readonly below: string;
}

/** The numeric parts of a version, or undefined when it is not one. */
export function versionParts(version: string): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** Whether `version` is in `range`; a version that cannot be read is not. */
export function versionIn(version: string, range: VersionRange): boolean {
  const v = versionParts(version);
  const min = versionParts(range.min);
  const below = versionParts(range.below);
  if (!v || !min || !below) return false;
  return compare(v, min) >= 0 && compare(v, below) < 0;
}
