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
   * Whether `r` is shared by key. Such a resource is never forgotten when one process no longer
   * reaches it: the lock lives on in the server, and other processes may still use it.
   */
  has(r: ResourceState): boolean {
    return this.#states.has(r);
  }
}
