/**
 * Contention statistics: acquisitions, waits and holds, as log-bucketed histograms.
 */
import { LogHistogram } from './histogram.js';
import type { Percentiles } from './types.js';

/**
 * Contention statistics of a resource or a site. The wait histogram holds only the waits that
 * happened; the uncontended acquisitions count as waits of zero. Histograms are made on first
 * use, so a resource acquired once and dropped keeps one histogram, not two.
 */
export class Stats {
  acquisitions = 0;
  contended = 0;
  #wait: LogHistogram | undefined = undefined;
  #hold: LogHistogram | undefined = undefined;

  /** One acquisition, after a wait of `waited` microseconds, or none (negative). */
  acquired(waited: number): void {
    this.acquisitions++;
    if (waited < 0) return;
    this.contended++;
    (this.#wait ??= new LogHistogram()).add(waited);
  }

  held(us: number): void {
    (this.#hold ??= new LogHistogram()).add(us);
  }

  merge(other: Stats): void {
    this.acquisitions += other.acquisitions;
    this.contended += other.contended;
    if (other.#wait) (this.#wait ??= new LogHistogram()).merge(other.#wait);
    if (other.#hold) (this.#hold ??= new LogHistogram()).merge(other.#hold);
  }

  waitSummary(): Percentiles {
    const zeros = this.acquisitions - (this.#wait?.count ?? 0);
    return (this.#wait ?? NO_SAMPLES).summary(zeros);
  }

  holdSummary(): Percentiles {
    return (this.#hold ?? NO_SAMPLES).summary();
  }
}

const NO_SAMPLES = new LogHistogram();
