/**
 * The lock-order graph: which lock was held while which other lock was taken, as lockdep keeps
 * it. A cycle in it is a deadlock waiting to happen, even when the run that showed it was lucky.
 *
 * Nodes are lock classes (the construction site, or the `class` option), so that locks made at
 * one place in the code count as one kind of lock. When both locks of a nested pair are of the
 * same class (five forks made in one loop), the class cannot tell their order apart, so that pair
 * is recorded between the instances instead.
 */

/** One observed order, with what is needed to decide whether it can really deadlock. */
export interface OrderObservation<R, T> {
  from: R;
  to: R;
  task: T;
  /** Where `from` was acquired, and where `to` was. */
  fromSite: number;
  toSite: number;
  /** Other locks the task held at that moment: a lock common to every observation is a gate. */
  gates: readonly R[];
}

export interface OrderEdgeState<R, T> {
  fromKey: string;
  toKey: string;
  first: OrderObservation<R, T>;
  /** A second observation by another task, if one was seen. */
  other: OrderObservation<R, T> | undefined;
  /** Locks held at every observation; `undefined` once the intersection is empty. */
  gates: Set<R> | undefined;
}

export class OrderGraph<R, T> {
  readonly #out = new Map<string, Map<string, OrderEdgeState<R, T>>>();
  /** The nodes with an edge into each node, so that a node can be forgotten without a scan. */
  readonly #in = new Map<string, Set<string>>();

  /**
   * Forgets a node that can take part in no new order (a lock the program no longer reaches), and
   * its edges, except those `keep` wants (the edges of a reported inversion, which its picture
   * shows).
   */
  forget(key: string, keep: (e: OrderEdgeState<R, T>) => boolean): void {
    const out = this.#out.get(key);
    if (out) {
      for (const [to, e] of out) {
        if (keep(e)) continue;
        out.delete(to);
        this.#in.get(to)?.delete(key);
      }
      if (out.size === 0) this.#out.delete(key);
    }
    const sources = this.#in.get(key);
    if (!sources) return;
    for (const from of sources) {
      const edges = this.#out.get(from);
      const e = edges?.get(key);
      if (!edges || !e || keep(e)) continue;
      edges.delete(key);
      sources.delete(from);
      if (edges.size === 0) this.#out.delete(from);
    }
    if (sources.size === 0) this.#in.delete(key);
  }

  /** Every edge, for the report's picture. */
  *edges(): IterableIterator<OrderEdgeState<R, T>> {
    for (const m of this.#out.values()) yield* m.values();
  }

  /**
   * Records one observation. Returns the cycles through its edge that became reportable: taken
   * by at least two tasks and not serialised by a common gate lock.
   */
  observe(
    fromKey: string,
    toKey: string,
    o: OrderObservation<R, T>,
  ): OrderEdgeState<R, T>[] | undefined {
    let out = this.#out.get(fromKey);
    if (!out) this.#out.set(fromKey, (out = new Map<string, OrderEdgeState<R, T>>()));
    let edge = out.get(toKey);
    if (!edge) {
      edge = {
        fromKey,
        toKey,
        first: o,
        other: undefined,
        gates: o.gates.length ? new Set(o.gates) : undefined,
      };
      out.set(toKey, edge);
      let sources = this.#in.get(toKey);
      if (!sources) this.#in.set(toKey, (sources = new Set<string>()));
      sources.add(fromKey);
    } else {
      // Only a change that could make a suppressed cycle reportable needs a search.
      let changed = false;
      if (!edge.other && o.task !== edge.first.task) {
        edge.other = o;
        changed = true;
      }
      if (edge.gates) {
        const kept = new Set(o.gates.filter((g) => edge!.gates!.has(g)));
        if (kept.size !== edge.gates.size) {
          edge.gates = kept.size ? kept : undefined;
          changed = true;
        }
      }
      if (!changed) return undefined;
    }
    const path = this.#path(toKey, fromKey);
    if (!path) return undefined;
    const cycle = [edge, ...path];
    return reportable(cycle) ? cycle : undefined;
  }

  /** A shortest path of edges from `start` to `goal`, breadth first. */
  #path(start: string, goal: string): OrderEdgeState<R, T>[] | undefined {
    const via = new Map<string, OrderEdgeState<R, T> | null>([[start, null]]);
    let frontier = [start];
    while (frontier.length) {
      const next: string[] = [];
      for (const k of frontier) {
        const out = this.#out.get(k);
        if (!out) continue;
        for (const [to, e] of out) {
          if (via.has(to)) continue;
          via.set(to, e);
          if (to === goal) {
            const path: OrderEdgeState<R, T>[] = [];
            for (let at: string = goal; at !== start;) {
              const step = via.get(at)!;
              path.unshift(step);
              at = step.fromKey;
            }
            return path;
          }
          next.push(to);
        }
      }
      frontier = next;
    }
    return undefined;
  }
}

/**
 * A cycle can deadlock only if two different tasks can stand on it at once, and no lock held
 * across every one of its acquisitions lets only one of them in at a time.
 */
function reportable<R, T>(cycle: OrderEdgeState<R, T>[]): boolean {
  const tasks = new Set<T>();
  for (const e of cycle) {
    tasks.add(e.first.task);
    if (e.other) tasks.add(e.other.task);
  }
  if (tasks.size < 2) return false;
  let common: Set<R> | undefined = cycle[0]!.gates;
  for (const e of cycle.slice(1)) {
    if (!common || !e.gates) return true;
    const next = new Set<R>();
    for (const g of common) if (e.gates.has(g)) next.add(g);
    common = next;
  }
  return !common || common.size === 0;
}
