/**
 * The lifetimes of a process's threads, as far as the analysis needs them: which have ended
 * (so that their late events start nothing), which were ended from outside (so that what they
 * left is uncertain), and which thread started which (Node ends a worker's workers with it).
 */

/** At most this many ended threads are remembered per process (see `Lifetimes.hasEnded`). */
export const MAX_ENDED_THREADS = 4096;

export class Lifetimes {
  /**
   * Threads known to have ended, the most recent last. Under a collector a thread's last events
   * may arrive after its end is known (they travel on another connection): they happened before
   * the end, so they start no hold and no wait. Only the most recent MAX_ENDED_THREADS are kept,
   * so that a program that starts threads without end keeps bounded memory; such late events
   * come soon after the end.
   */
  readonly #ended = new Set<number>();
  /** Threads ended from outside whose `thread-exit` has not come yet. */
  readonly #cut = new Set<number>();
  /** The thread that started each running thread, and the running threads each one started. */
  readonly #parent = new Map<number, number>();
  readonly #children = new Map<number, Set<number>>();

  hasEnded(thread: number): boolean {
    return this.#ended.has(thread);
  }

  /** Forgets every thread: the process they belong to is forgotten. */
  clear(): void {
    this.#ended.clear();
    this.#cut.clear();
    this.#parent.clear();
    this.#children.clear();
  }

  /** `thread` ended; `abandoned` events say so before (or without) its `thread-exit`. */
  ended(thread: number): void {
    this.#ended.delete(thread);
    this.#ended.add(thread);
    if (this.#ended.size > MAX_ENDED_THREADS)
      this.#ended.delete(this.#ended.values().next().value!);
  }

  started(thread: number, parent: number): void {
    if (thread === parent || this.hasEnded(thread)) return;
    this.#parent.set(thread, parent);
    let children = this.#children.get(parent);
    if (!children) this.#children.set(parent, (children = new Set()));
    children.add(thread);
  }

  /** `thread` was ended from outside: its `thread-exit` comes next. */
  cut(thread: number): void {
    this.#cut.add(thread);
  }

  /**
   * `thread` has exited: it has ended, and so has every thread it started that still ran, ended
   * from outside. Returns each of them with whether its last events may be lost.
   */
  exited(thread: number): [thread: number, lost: boolean][] {
    const out: [number, boolean][] = [[thread, this.#cut.delete(thread)]];
    for (let i = 0; i < out.length; i++) {
      const [t] = out[i]!;
      this.ended(t);
      for (const child of this.#children.get(t) ?? []) out.push([child, true]);
      this.#children.delete(t);
      const parent = this.#parent.get(t);
      if (parent !== undefined) this.#children.get(parent)?.delete(t);
      this.#parent.delete(t);
    }
    return out;
  }
}
