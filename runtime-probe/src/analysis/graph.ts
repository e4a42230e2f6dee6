/**
 * Graph algorithms over any nodes, with successors given as a function: no knowledge of tasks or
 * locks, so they are tested on plain graphs. Both are iterative, since chains of waits can be
 * thousands long.
 */

/** A node that a search can mark as visited without a set of its own. */
export interface Markable {
  mark: number;
}

/**
 * A cycle through `start`, as the path of nodes from `start`, or undefined. Only nodes for which
 * `eligible` holds are entered. `stamp` must be new for every search: nodes whose `mark` equals
 * it have been visited by this one, so a search allocates nothing per node.
 */
export function findCycle<N extends Markable>(
  start: N,
  successors: (n: N) => Iterable<N>,
  eligible: (n: N) => boolean,
  stamp: number,
): N[] | undefined {
  start.mark = stamp;
  const path: N[] = [start];
  const iters: Iterator<N>[] = [successors(start)[Symbol.iterator]()];
  while (iters.length) {
    const step = iters[iters.length - 1]!.next();
    if (step.done) {
      iters.pop();
      path.pop();
      continue;
    }
    const next = step.value;
    if (next === start && path.length > 1) return path.slice();
    if (next.mark === stamp || !eligible(next)) continue;
    next.mark = stamp;
    path.push(next);
    iters.push(successors(next)[Symbol.iterator]());
  }
  return undefined;
}

/**
 * The strongly connected groups of two nodes or more among `nodes` and the eligible nodes they
 * reach, by Tarjan's algorithm: each group holds a cycle through any of its nodes.
 */
export function stronglyConnected<N>(
  nodes: Iterable<N>,
  successors: (n: N) => Iterable<N>,
  eligible: (n: N) => boolean,
): N[][] {
  const index = new Map<N, number>();
  const low = new Map<N, number>();
  const onStack = new Set<N>();
  const stack: N[] = [];
  const groups: N[][] = [];
  let next = 0;
  for (const start of nodes) {
    if (index.has(start)) continue;
    const frames: { n: N; succ: Iterator<N> }[] = [];
    const enter = (n: N): void => {
      index.set(n, next);
      low.set(n, next++);
      stack.push(n);
      onStack.add(n);
      frames.push({ n, succ: successors(n)[Symbol.iterator]() });
    };
    enter(start);
    while (frames.length) {
      const frame = frames[frames.length - 1]!;
      const step = frame.succ.next();
      if (!step.done) {
        const w = step.value;
        if (!eligible(w)) continue;
        if (!index.has(w)) enter(w);
        else if (onStack.has(w)) low.set(frame.n, Math.min(low.get(frame.n)!, index.get(w)!));
        continue;
      }
      frames.pop();
      const v = frame.n;
      const parent = frames[frames.length - 1];
      if (parent) low.set(parent.n, Math.min(low.get(parent.n)!, low.get(v)!));
      if (low.get(v) === index.get(v)) {
        const group: N[] = [];
        let w: N;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          group.push(w);
        } while (w !== v);
        if (group.length > 1) groups.push(group);
      }
    }
  }
  return groups;
}
