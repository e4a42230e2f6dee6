/**
 * The time line's storage: a ring of the most recent spans (holds and waits).
 */
import { resourceKey, type ResourceInfo } from './model.js';
import type { TimelineLane } from './types.js';

/**
 * The time line: the most recent holds and waits, in a ring of typed arrays that grows to
 * `capacity` and then overwrites the oldest. Numbers live in typed arrays and references in
 * plain arrays, so recording a span allocates nothing: retaining a hundred thousand small
 * objects made the garbage collector the analysis's largest cost. A span is named by its
 * sequence number, which stays valid until the ring overwrites it.
 */
export class Spans {
  #size = 0;
  starts = new Float64Array(0);
  ends = new Float64Array(0);
  sites = new Float64Array(0);
  types = new Uint8Array(0);
  lanes: TimelineLane[] = [];
  /** Each span's resource, by id and registration: enough after the resource is forgotten. */
  resIds = new Float64Array(0);
  resInfos: ResourceInfo[] = [];
  endedBy: (string | undefined)[] = [];
  /** How many spans were ever added; the next one's sequence number. */
  seq = 0;

  constructor(readonly capacity: number) {}

  add(
    lane: TimelineLane,
    resId: number,
    info: ResourceInfo,
    type: number,
    start: number,
    site: number,
  ): number {
    if (this.seq >= this.#size && this.#size < this.capacity) this.#grow();
    const i = this.seq % this.#size;
    this.starts[i] = start;
    this.ends[i] = NaN;
    this.sites[i] = site;
    this.types[i] = type;
    this.lanes[i] = lane;
    this.resIds[i] = resId;
    this.resInfos[i] = info;
    this.endedBy[i] = undefined;
    return this.seq++;
  }

  /** The key of span `i`'s resource (`i` a ring index). */
  resourceKey(i: number): string {
    return resourceKey(this.resInfos[i]!.proc, this.resIds[i]!);
  }

  /** The ring index of span `seq`, or -1 once it has been overwritten. */
  index(seq: number): number {
    return seq >= 0 && seq < this.seq && seq >= this.seq - this.#size ? seq % this.#size : -1;
  }

  end(seq: number, at: number, endedBy?: string): void {
    const i = this.index(seq);
    if (i < 0) return;
    this.ends[i] = at;
    if (endedBy !== undefined) this.endedBy[i] = endedBy;
  }

  /** The sequence numbers of the last `n` spans still held, oldest first. */
  last(n: number): number[] {
    const count = Math.min(this.seq, this.#size, n);
    return Array.from({ length: count }, (_, k) => this.seq - count + k);
  }

  get retained(): number {
    return Math.min(this.seq, this.#size);
  }

  #grow(): void {
    // Before the ring first wraps, spans sit at their sequence numbers: growing is a copy.
    const size = Math.min(this.capacity, Math.max(1024, this.#size * 2));
    const copy = <A extends Float64Array | Uint8Array>(a: A, make: (n: number) => A): A => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.starts = copy(this.starts, (n) => new Float64Array(n));
    this.ends = copy(this.ends, (n) => new Float64Array(n));
    this.sites = copy(this.sites, (n) => new Float64Array(n));
    this.resIds = copy(this.resIds, (n) => new Float64Array(n));
    this.types = copy(this.types, (n) => new Uint8Array(n));
    this.#size = size;
  }
}
