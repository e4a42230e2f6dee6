/**
 * How the explorer chooses, at each decision, which of the waiting calls proceeds: pure and
 * seeded, so that the same seed gives the same runs.
 *
 * - `random`: uniformly among the choices.
 * - `pct`: probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010). Each flow gets a
 *   random priority when first seen, and the flow with the highest priority proceeds; at d - 1
 *   random steps the flow that proceeds drops below every other. A bug that needs d ordering
 *   constraints is found with probability at least 1 / (n k^(d-1)) a run, for n flows and k steps.
 * - `dfs`: every schedule in turn, depth first, branching at the first `maxSteps` decisions (the
 *   later ones take the first choice); it tells when the space is exhausted.
 * - `replay`: the choices of a saved schedule.
 */

/** A decision the strategy sees: how many choices, and the flow of each (for PCT). */
export interface Decision {
  step: number;
  flows: readonly number[];
}

export interface Strategy {
  /** Starts run `run`; false when there is nothing left to explore. */
  begin(run: number): boolean;
  /** The index of the choice that proceeds. */
  choose(d: Decision): number;
  /** Ends the run, which took `steps` decisions. */
  end(steps: number): void;
  /** For dfs: true once every schedule up to its bound was run. */
  readonly exhausted: boolean;
}

export type StrategyName = 'random' | 'pct' | 'dfs';
export const STRATEGIES: readonly StrategyName[] = ['random', 'pct', 'dfs'];

/** mulberry32: a small, fast, well-distributed 32-bit generator; returns numbers in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of run `run` of an exploration seeded with `seed`. */
export function runSeed(seed: number, run: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(run + 1, 0xc2b2ae35)) >>> 0;
}

export class RandomStrategy implements Strategy {
  readonly exhausted = false;
  #next: () => number = Math.random;
  constructor(private readonly seed: number) {}
  begin(run: number): boolean {
    this.#next = prng(runSeed(this.seed, run));
    return true;
  }
  choose(d: Decision): number {
    return Math.floor(this.#next() * d.flows.length);
  }
  end(_steps: number): void {}
}

export class PctStrategy implements Strategy {
  readonly exhausted = false;
  #next: () => number = Math.random;
  #priority = new Map<number, number>();
  #changes: number[] = [];
  /** Decisions with more than one choice in this run: only those can be change points. */
  #real = 0;
  /** The most such decisions of a run so far: the k of PCT, from which change points are drawn. */
  #longest = 8;
  constructor(
    private readonly seed: number,
    private readonly depth: number,
  ) {}
  begin(run: number): boolean {
    this.#next = prng(runSeed(this.seed, run));
    this.#priority.clear();
    this.#real = 0;
    this.#changes = [];
    for (let i = 1; i < this.depth; i++)
      this.#changes.push(Math.floor(this.#next() * this.#longest));
    return true;
  }
  choose(d: Decision): number {
    if (d.flows.length === 1) return 0;
    let best = 0;
    let bestPriority = -Infinity;
    d.flows.forEach((flow, i) => {
      let p = this.#priority.get(flow);
      // Initial priorities are above d, so that a lowered flow (priority < d) goes last.
      if (p === undefined) this.#priority.set(flow, (p = this.depth + this.#next()));
      if (p > bestPriority) {
        bestPriority = p;
        best = i;
      }
    });
    const change = this.#changes.indexOf(this.#real++);
    if (change >= 0) this.#priority.set(d.flows[best]!, change + this.#next() * 0.5);
    return best;
  }
  end(_steps: number): void {
    if (this.#real > this.#longest) this.#longest = this.#real;
  }
}

export class DfsStrategy implements Strategy {
  #path: { of: number; index: number }[] = [];
  #at = 0;
  #exhausted = false;
  constructor(private readonly maxSteps: number) {}
  get exhausted(): boolean {
    return this.#exhausted;
  }
  begin(_run: number): boolean {
    this.#at = 0;
    return !this.#exhausted;
  }
  choose(d: Decision): number {
    if (d.step >= this.maxSteps) return 0;
    const known = this.#path[this.#at];
    this.#at++;
    if (known) return Math.min(known.index, d.flows.length - 1);
    this.#path.push({ of: d.flows.length, index: 0 });
    return 0;
  }
  end(_steps: number): void {
    // Backtrack: the deepest decision with a choice left takes its next one.
    this.#path.length = Math.min(this.#path.length, this.#at);
    while (this.#path.length > 0) {
      const last = this.#path[this.#path.length - 1]!;
      if (last.index + 1 < last.of) {
        last.index++;
        return;
      }
      this.#path.pop();
    }
    this.#exhausted = true;
  }
}

/** The choices of a saved schedule, in order; past its end, or where it does not fit, the first. */
export class ReplayStrategy implements Strategy {
  readonly exhausted = false;
  constructor(private readonly choices: readonly number[]) {}
  begin(_run: number): boolean {
    return true;
  }
  choose(d: Decision): number {
    // A choice the run does not offer (the program changed) falls back to the first.
    const c = this.choices[d.step];
    return c !== undefined && c < d.flows.length ? c : 0;
  }
  end(_steps: number): void {}
}

export function makeStrategy(
  name: StrategyName,
  options: { seed: number; depth: number; maxSteps: number },
): Strategy {
  switch (name) {
    case 'random':
      return new RandomStrategy(options.seed);
    case 'pct':
      return new PctStrategy(options.seed, options.depth);
    case 'dfs':
      return new DfsStrategy(options.maxSteps);
  }
}
