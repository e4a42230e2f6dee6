/**
 * Averted deadlocks: a wait that fail-fast refused (an `error` event with `deadlock-victim`)
 * because it would have closed a cycle. The probe proved the cycle when it refused; this module
 * only names it. Threads send their events on separate streams, so the waits of the others may
 * reach the analysis after the refusal: a refusal whose cycle the model does not show yet is
 * kept, with what the victim held, until a wait that closes it arrives (one that began before
 * the refusal, for a lock the victim held then).
 */
import type { FindingContext } from './context.js';
import { reportDeadlock } from './deadlock.js';
import { Role, type ResourceState, type TaskState } from '../model.js';
import { successors } from '../waitfor.js';

interface Refusal {
  victim: TaskState;
  res: ResourceState;
  site: number;
  at: number;
  held: Set<ResourceState>;
}

/** Refusals kept at most, oldest dropped first: each waits for events already on their way. */
const MAX_KEPT = 16;

export class AvertedDeadlocks {
  readonly #kept: Refusal[] = [];

  constructor(
    private readonly ctx: FindingContext,
    private readonly findCycle: (t: TaskState) => TaskState[] | undefined,
  ) {}

  /** `victim`'s wait on `res` (at `site`) was refused; called while the model still has it. */
  refused(victim: TaskState, res: ResourceState, at: number): void {
    // A task that asked again for a lock it holds, and was queued behind no one, waits for
    // itself: a cycle of one.
    const cycle = this.findCycle(victim) ?? (res.holders.has(victim) ? [victim] : undefined);
    if (cycle) {
      reportDeadlock(this.ctx, cycle, at, 'averted');
      return;
    }
    const held = new Set<ResourceState>();
    for (const r of victim.holds.keys()) if (r.role === Role.Lock) held.add(r);
    if (held.size === 0) return;
    this.#kept.push({ victim, res, site: victim.waitSite, at, held });
    if (this.#kept.length > MAX_KEPT) this.#kept.shift();
  }

  /** `t` has begun to wait for lock `r` (at `at`): it may close a refused cycle. */
  waited(t: TaskState, r: ResourceState, at: number): void {
    for (let i = 0; i < this.#kept.length; i++) {
      const p = this.#kept[i]!;
      if (p.victim === t || !p.held.has(r) || at > p.at) continue;
      const path = pathTo(p.res, t, p.victim);
      if (!path) continue;
      this.#kept.splice(i, 1);
      // The victim's refused wait, put back for as long as the finding is made.
      const { waitRes, waitSite, waitDir } = p.victim;
      p.victim.waitRes = p.res;
      p.victim.waitSite = p.site;
      p.victim.waitDir = 0;
      try {
        reportDeadlock(this.ctx, [p.victim, ...path], p.at, 'averted');
      } finally {
        p.victim.waitRes = waitRes;
        p.victim.waitSite = waitSite;
        p.victim.waitDir = waitDir;
      }
      return;
    }
  }
}

/**
 * A chain of definite waits from a holder of `res` to `target`, as the tasks on it (the holder
 * first, `target` last), or undefined. The victim is not on it.
 */
function pathTo(res: ResourceState, target: TaskState, victim: TaskState): TaskState[] | undefined {
  const seen = new Set<TaskState>([victim]);
  const walk = (t: TaskState): TaskState[] | undefined => {
    if (t === target) return [t];
    if (seen.has(t)) return undefined;
    seen.add(t);
    for (const next of successors(t, true)) {
      const rest = walk(next);
      if (rest) return [t, ...rest];
    }
    return undefined;
  };
  for (const h of res.holders.keys()) {
    const path = walk(h);
    if (path) return path;
  }
  return undefined;
}
