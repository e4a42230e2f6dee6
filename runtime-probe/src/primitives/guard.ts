/**
 * Guards: what an acquisition resolves to. A guard releases exactly what it acquired, by
 * `release()` or by `using` (`[Symbol.dispose]`). Releasing twice through `release()` is a
 * misuse and throws; disposal after an explicit release is a no-op, so an early `release()` inside
 * a `using` block is allowed.
 *
 * The resource keeps the hold record, not the guard, so a guard that is dropped while it still
 * holds can be garbage collected; when a sink is attached, a FinalizationRegistry reports that as
 * a `guard-collected` event (an abandoned lock the program can no longer release).
 *
 * Registering with a FinalizationRegistry costs about as much as the whole acquisition, and most
 * guards are released within the burst of work that took them. So a new guard is only pushed on
 * a list, and at the recorder's next flush the guards of that list that still hold are
 * registered. A guard cannot be collected before that flush, since the list holds it.
 */
import { LockMisuseError } from '../errors.js';
import { rt, shared, type Flow, type ResourceRec } from '../runtime.js';
import { onFlush } from '../recorder.js';
import { liveHolds, Misuse, Op, sync } from '../sync.js';
import { currentFlow } from '../identity.js';

/** What a resource remembers about one holder. */
export interface Hold {
  flow: Flow;
  site: number;
  released: boolean;
  /** Set once registered with the FinalizationRegistry, so that only then is it unregistered. */
  watched?: boolean;
  /** Read or write mode for a read-write lock; permits for a semaphore. */
  n: number;
}

export const RELEASE = Symbol.for('lockscope.release');

export interface Releasable {
  [RELEASE](hold: Hold): void;
  readonly resource: ResourceRec;
}

interface Collected {
  res: ResourceRec;
  hold: Hold;
  /** The run of `lockscope explore` it was held in (0 outside one). */
  run: number;
}

const registry = new FinalizationRegistry<Collected>(({ res, hold, run }) => {
  // A guard of an earlier run of `lockscope explore`: that run is over.
  if (run !== (rt.explore?.run ?? 0)) return;
  if (!hold.released) sync(Op.guardCollected, hold.flow, res, hold.site, hold.n);
});

const fresh = shared('fresh-guards', () => ({ guards: [] as Guard[] }));

function registerHeldGuards(): void {
  const guards = fresh.guards;
  if (guards.length === 0) return;
  fresh.guards = [];
  for (const g of guards) g.watch();
}

onFlush(registerHeldGuards);

/**
 * A hold on a lock or a permit, from `acquire()` and its kind: `release()` ends it, as does the end
 * of a `using` block. Releasing twice is a misuse, reported and otherwise ignored.
 */
export class Guard implements Disposable {
  #owner: Releasable;
  #hold: Hold;
  /** Reads of `then` the probe's own promise makes before the caller has the guard. */
  #ownThenReads: number;

  /** `direct` for a guard returned as it is (a try-lock), not through the probe's promise. */
  /** Made by the primitive that grants the hold. */
  constructor(owner: Releasable, hold: Hold, direct = false) {
    this.#owner = owner;
    this.#hold = hold;
    this.#ownThenReads = direct ? 0 : 1;
    liveHolds.count++;
    if (rt.recording) fresh.guards.push(this);
  }

  /**
   * A promise resolved with a guard reads its `then` (to see whether it is a promise itself):
   * the probe's own promise does so once, and any later read means that the guard was passed
   * through another promise, as an async function that returns it does. That hold is then its
   * caller's to release (findings/left-held.ts). Not a method of the type: it answers undefined.
   */
  static {
    Object.defineProperty(Guard.prototype, 'then', {
      configurable: true,
      get(this: Guard): undefined {
        if (this.#ownThenReads-- === 0 && !this.#hold.released && rt.recording) {
          sync(Op.handedOn, this.#hold.flow, this.#owner.resource, 0, this.#hold.n);
        }
        return undefined;
      },
    });
  }

  /** Starts watching for this guard being collected while it holds. */
  watch(): void {
    const hold = this.#hold;
    if (hold.released) return;
    hold.watched = true;
    registry.register(this, { res: this.#owner.resource, hold, run: rt.explore?.run ?? 0 }, hold);
  }

  /** True until this guard has been released. */
  get held(): boolean {
    return !this.#hold.released;
  }

  /** Ends the hold, and wakes the next waiter. */
  release(): void {
    const hold = this.#hold;
    if (hold.released) {
      sync(Op.misuse, currentFlow(), this.#owner.resource, 0, Misuse.releaseNotHeld);
      throw new LockMisuseError(
        `${this.#owner.resource.name} was released twice through the same guard`,
      );
    }
    // Released only once the resource took it back: a release it refuses (the mutex was given
    // up by a Condition.wait in progress) leaves the guard holding, so the wait's re-acquisition
    // can still be released later.
    this.#owner[RELEASE](hold);
    hold.released = true;
    liveHolds.count--;
    if (hold.watched) registry.unregister(hold);
  }

  /** Ends the hold at the end of a `using` block (a hold already released is left alone). */
  [Symbol.dispose](): void {
    if (!this.#hold.released) this.release();
  }
}
