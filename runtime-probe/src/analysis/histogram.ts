/**
 * A log-bucketed histogram of durations in microseconds: bounded memory whatever the number of
 * samples, deterministic (no sampling), and exact to within half a bucket (about ±4.5%), which is
 * plenty for wait and hold percentiles.
 */
import type { Percentiles } from './types.js';

/** Buckets per doubling: bucket b covers [2^(b/8) - 1, 2^((b+1)/8) - 1). */
const PER_OCTAVE = 8;

export class LogHistogram {
  // Most histograms of a short-lived resource hold one sample, or samples in one bucket (waits
  // that were all zero): that bucket lives in two fields, and the array of counts is made only
  // when a second bucket is used, so that a million resources do not keep a million arrays.
  #only = -1;
  #onlyCount = 0;
  /** Counts by bucket, grown on demand; a day in microseconds needs 8 * 37 buckets. */
  #counts: number[] | undefined = undefined;
  count = 0;
  max = 0;

  add(us: number): void {
    const v = us > 0 ? us : 0;
    this.#addToBucket(Math.floor(Math.log2(v + 1) * PER_OCTAVE), 1);
    this.count++;
    if (v > this.max) this.max = v;
  }

  #addToBucket(b: number, n: number): void {
    if (this.#counts === undefined) {
      if (this.#only < 0 || this.#only === b) {
        this.#only = b;
        this.#onlyCount += n;
        return;
      }
      this.#counts = [];
      this.#bump(this.#only, this.#onlyCount);
      this.#only = -1;
      this.#onlyCount = 0;
    }
    this.#bump(b, n);
  }

  #bump(b: number, n: number): void {
    const counts = this.#counts!;
    while (counts.length <= b) counts.push(0);
    counts[b]! += n;
  }

  /** The counts by bucket, as an array (made for the occasion when one bucket is used). */
  #buckets(): number[] {
    if (this.#counts) return this.#counts;
    const counts: number[] = [];
    if (this.#only >= 0) {
      while (counts.length <= this.#only) counts.push(0);
      counts[this.#only] = this.#onlyCount;
    }
    return counts;
  }

  /** Adds every sample of `other`. */
  merge(other: LogHistogram): void {
    const theirs = other.#buckets();
    for (let b = 0; b < theirs.length; b++) if (theirs[b]) this.#addToBucket(b, theirs[b]!);
    this.count += other.count;
    if (other.max > this.max) this.max = other.max;
  }

  /**
   * The value below which a fraction `q` of the samples lie, as the middle of its bucket; `zeros`
   * more samples of zero count first.
   */
  quantile(q: number, zeros = 0): number {
    const total = this.count + zeros;
    if (total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * total));
    if (rank <= zeros) return 0;
    let seen = zeros;
    const counts = this.#buckets();
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

  /** The percentiles, with `zeros` more samples of zero. */
  summary(zeros = 0): Percentiles {
    return {
      count: this.count + zeros,
      p50: this.quantile(0.5, zeros),
      p90: this.quantile(0.9, zeros),
      p99: this.quantile(0.99, zeros),
      max: Math.round(this.max),
    };
  }
}
