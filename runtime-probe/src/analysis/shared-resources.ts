/**
 * Resources that live outside any one process. A lock a server keeps (a Redis key, a PostgreSQL
 * advisory lock) is registered by every process that uses it, each under an id of its own, with
 * one `global` key made of the server's identity and the lock's key. The analysis keeps one state
 * for all of them, so that a wait-for cycle between processes closes as one deadlock, drawn with
 * each process's own lines (sites are resolved through the task that waits or holds).
 *
 * The state stays with the process that registered the key first (its `proc`): reports list it
 * there once, and the other processes map their own ids to it.
 */
import type { ResourceMessage } from '../protocol.js';
import type { ProcessModel, ResourceState } from './model.js';
import type { Transitions } from './transitions.js';

/**
 * How many keys are kept. A program that makes more distinct server locks than this has its
 * later ones analysed per process, as if no other process used them: a cycle through them is
 * missed, never invented.
 */
export const MAX_SHARED_RESOURCES = 100_000;

export class SharedResources {
  readonly #byKey = new Map<string, ResourceState>();
  readonly #states = new WeakSet<ResourceState>();

  /**
   * Maps `m`'s id in `proc` to the state another registration of its key made, and says whether
   * it did (then the registration is taken). A registration whose kind differs from the shared
   * one, or whose id already has a state of its own in use, is not the same lock: it is counted
   * as a conflict, which makes the process's findings uncertain, and left out.
   */
  join(proc: ProcessModel, m: ResourceMessage): boolean {
    const shared = m.global === undefined ? undefined : this.#byKey.get(m.global);
    // The first registration of a key, or the same one sent again after a gap.
    if (!shared || (shared.proc === proc && shared.id === m.id)) return false;
    const own = proc.resources.get(m.id);
    if (own === shared) return true;
    if (shared.kind !== m.kind || (own && (own.holders.size > 0 || own.waiters.size > 0))) {
      proc.conflicts++;
      return true;
    }
    proc.resources.set(m.id, shared);
    return true;
  }

  /** Keeps `r`, just registered with `m`, as the state of `m.global`. */
  adopt(r: ResourceState, m: ResourceMessage): void {
    if (m.global === undefined || this.#byKey.size >= MAX_SHARED_RESOURCES) return;
    this.#byKey.set(m.global, r);
    this.#states.add(r);
  }

  /**
   * `proc` no longer reaches its resource `id`, whose state is `r`: for a shared resource, says so
   * (true) and lets this process's other ids for it go (an adapter registers the lock again,
   * under a new id, each time it is used). The state itself lives on: the lock is the server's,
   * and other processes may still use it.
   */
  collected(proc: ProcessModel, id: number, r: ResourceState): boolean {
    if (!this.#states.has(r)) return false;
    if (r.proc !== proc || r.id !== id) proc.resources.delete(id);
    return true;
  }

  /**
   * A process has ended (or was cut off): it holds and waits for no lock a server keeps any more.
   * The server lets a session's locks go with its connection (or at their expiry), and a task of
   * a process that is gone must not stand in another process's cycle: that would be a deadlock
   * between the living and the dead, which the living would never see.
   */
  leave(proc: ProcessModel, tx: Pick<Transitions, 'endWait' | 'dropHold'>, now: number): void {
    for (const t of proc.tasks.values()) {
      if (t.waitRes && this.#states.has(t.waitRes)) tx.endWait(t, now, undefined);
      for (const r of [...t.holds.keys()]) if (this.#states.has(r)) tx.dropHold(t, r, now);
    }
  }
}
