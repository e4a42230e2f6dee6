/**
 * Tells the analysis when a resource can no longer be used, so that it can forget it: a program
 * that makes a million short-lived mutexes must not make the analysis hold a million resources.
 *
 * A resource record is watched when its registration is first sent (batch.ts), so resources the
 * stream never named cost nothing, and the FinalizationRegistry's cost is paid at flush time, off
 * the hot path. The record is referenced by its primitive, its guards and any buffered event, so
 * it is collected only after the last event that uses it has left the buffer: the `collected`
 * event always comes after them in the stream. Shared primitives are not watched: a wrapper on
 * one thread going away says nothing of the lock the other threads still use.
 */
import { rt, type ResourceRec } from './runtime.js';
import { recordQuietly } from './recorder.js';
import { Op } from './sync.js';

const registry = new FinalizationRegistry<number>((id) => {
  // Under `lockscope explore` each run has an analysis of its own, which need not forget.
  if (rt.recording && rt.explore === undefined) recordQuietly(Op.collected, rt.mainFlow, id);
});

/** Watches `res` for collection, once. */
export function watchResource(res: ResourceRec): void {
  if (res.watched || res.kind.startsWith('shared-')) return;
  res.watched = true;
  registry.register(res, res.id);
}
