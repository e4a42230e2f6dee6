/**
 * A log-bucketed histogram of durations in microseconds: bounded memory whatever the number of
 * samples, deterministic (no sampling), and exact to within half a bucket (about ±4.5%), which is
 * plenty for wait and hold percentiles.
 */
import type { Percentiles } from './types.js';

/** Buckets per doubling: bucket b covers [2^(b/8) - 1, 2^((b+1)/8) - 1). */
const PER_OCTAVE = 8;

export class LogHistogram {
  /** Counts by bucket, grown on demand; a day in microseconds needs 8 * 37 buckets. */
  #counts: number[] = [];
  count = 0;
  max = 0;

  add(us: number): void {
    const v = us > 0 ? us : 0;
    const b = Math.floor(Math.log2(v + 1) * PER_OCTAVE);
    const counts = this.#counts;
    while (counts.length <= b) counts.push(0);
    counts[b]!++;
    this.count++;
    if (v > this.max) this.max = v;
  }

  /** The value below which a fraction `q` of the samples lie, as the middle of its bucket. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    const counts = this.#counts;
    for (let b = 0; b < counts.length; b++) {
      seen += counts[b]!;
      if (seen >= rank) {
        const lo = 2 ** (b / PER_OCTAVE) - 1;
        const hi = 2 ** ((b + 1) / PER_OCTAVE) - 1;
        return Math.min(this.max, Math.round((lo + hi) / 2));
      }
    }
    return this.max;
  }

  summary(): Percentiles {
    return {
      count: this.count,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
      max: Math.round(this.max),
    };
  }
}
