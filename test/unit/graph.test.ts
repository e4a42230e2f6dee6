// The wait-for graph's algorithms on plain graphs: nodes are numbers' records, edges a table.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findCycle, stronglyConnected } from '../../runtime-probe/src/analysis/graph.js';

interface Node {
  id: number;
  mark: number;
}

function graph(edges: Record<number, number[]>, size: number) {
  const nodes = Array.from({ length: size }, (_, id): Node => ({ id, mark: 0 }));
  const next = (n: Node): Node[] => (edges[n.id] ?? []).map((i) => nodes[i]!);
  return { nodes, next };
}
const ids = (ns: Node[] | undefined): number[] | undefined => ns?.map((n) => n.id);
const all = (): boolean => true;

describe('findCycle', () => {
  test('finds the cycle through the start, and only through it', () => {
    const { nodes, next } = graph({ 0: [1], 1: [2], 2: [0, 3], 3: [3] }, 4);
    assert.deepEqual(ids(findCycle(nodes[0]!, next, all, 1)), [0, 1, 2]);
    // 3 waits only for itself: a one-node loop is no cycle through another task.
    assert.equal(findCycle(nodes[3]!, next, all, 2), undefined);
  });

  test('does not enter nodes that are not eligible', () => {
    const { nodes, next } = graph({ 0: [1], 1: [0] }, 2);
    assert.equal(
      findCycle(nodes[0]!, next, (n) => n.id !== 1, 1),
      undefined,
    );
  });

  test('a chain of 100,000 waits is searched without recursion', () => {
    const size = 100_000;
    const edges: Record<number, number[]> = {};
    for (let i = 0; i < size; i++) edges[i] = [(i + 1) % size];
    const { nodes, next } = graph(edges, size);
    assert.equal(findCycle(nodes[0]!, next, all, 1)?.length, size);
  });
});

describe('stronglyConnected', () => {
  test('returns the groups of two or more, each once', () => {
    const { nodes, next } = graph({ 0: [1], 1: [0], 2: [3], 3: [4], 4: [2, 5], 5: [] }, 6);
    const groups = stronglyConnected(nodes, next, all).map((g) => ids(g)!.sort());
    assert.deepEqual(groups.sort(), [
      [0, 1],
      [2, 3, 4],
    ]);
  });

  test('a long chain ending in a loop gives one group, iteratively', () => {
    const size = 50_000;
    const edges: Record<number, number[]> = {};
    for (let i = 0; i < size - 1; i++) edges[i] = [i + 1];
    edges[size - 1] = [size - 2];
    const { nodes, next } = graph(edges, size);
    assert.deepEqual(
      stronglyConnected(nodes, next, all).map((g) => g.length),
      [2],
    );
  });
});
