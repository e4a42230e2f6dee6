/**
 * Where a lock was left held: a task waits on a lock whose holder acquired it inside a function
 * that has since returned without releasing it (an early return past a bare `release()`).
 *
 * What can be known: the probe captures each blocking call's frames (LOCKSCOPE_STACK_DEPTH, 4 by
 * default). The acquisition's frames say which function `f` took the lock and where its caller
 * `g` called it; while `f` runs, `g` waits at that call, so the holder's later frames (where it
 * waits now) show that place. When they show `g`'s call (the same callers below it) at another
 * place instead, `f` has returned. Stacks too shallow to hold both `f` and its caller, a function
 * without a name, or a holder that has not blocked since give no answer, and the finding says
 * nothing of it.
 *
 * What cannot be known: whether `f` handed its guard on. A guard that `f` returns passes through
 * the promise of `f`'s call, which the probe sees (the guard's `handed-on` event), and such a
 * hold is never said to be left held. A guard stored in an object or a closure is not seen, and
 * neither is an `f` whose caller did not await it; a finding about such a lock may say "not
 * released when f returned" of a lock that f meant to keep or still runs with.
 */
import type { Hold, ProcessModel } from '../model.js';
import type { SiteMessage } from '../../protocol.js';

/**
 * The function that acquired `hold` and returned without releasing it, as where its holder
 * waits now (`nowSite`) shows; undefined when that cannot be known or the guard was handed on.
 */
export function leftHeldBy(proc: ProcessModel, hold: Hold, nowSite: number): string | undefined {
  return hold.handedOn ? undefined : returnedWithout(proc, hold.site, nowSite);
}

/**
 * The name of the function that acquired a lock at `holdSite` and has returned, as the frames of
 * `nowSite` (where the holder is now) show; undefined when they do not show it.
 */
export function returnedWithout(
  proc: ProcessModel,
  holdSite: number,
  nowSite: number,
): string | undefined {
  const acquired = framesOf(proc, holdSite);
  const now = framesOf(proc, nowSite);
  const f = acquired[0];
  const caller = acquired[1];
  if (!f?.fn || !caller || now.length === 0) return undefined;
  // While f runs, its caller waits at the call: f may still be running.
  if (now.some((frame) => samePlace(frame, caller))) return undefined;
  // The same call of the caller, now at another place: a frame of the caller's function whose
  // callers are the acquisition's callers.
  for (let j = 0; j < now.length; j++) {
    const frame = now[j]!;
    if (!sameFunction(frame, caller)) continue;
    if (sameCallers(now, j + 1, acquired, 2)) return f.fn;
  }
  return undefined;
}

function framesOf(proc: ProcessModel, id: number): SiteMessage[] {
  const top = id ? proc.sites.get(id) : undefined;
  if (!top) return [];
  const frames = [top];
  for (const c of top.stack ?? []) {
    const s = proc.sites.get(c);
    if (!s) break;
    frames.push(s);
  }
  return frames;
}

/** By where the function starts when the probe says it, else by its name. */
function sameFunction(a: SiteMessage, b: SiteMessage): boolean {
  if (a.file !== b.file) return false;
  if (a.fnAt && b.fnAt) return a.fnAt[0] === b.fnAt[0] && a.fnAt[1] === b.fnAt[1];
  return a.fn !== undefined && a.fn === b.fn;
}

function samePlace(a: SiteMessage, b: SiteMessage): boolean {
  return a.file === b.file && a.line === b.line && a.column === b.column;
}

/**
 * Whether the callers `now` from `i` are those of `acquired` from `k`, as far as both go. `now`
 * may end first (an async function's later frames lose the synchronous callers of its first
 * part), but not go deeper than a whole acquisition stack: that would be another call.
 */
function sameCallers(now: SiteMessage[], i: number, acquired: SiteMessage[], k: number): boolean {
  if (k >= acquired.length && i < now.length) return false;
  for (; i < now.length && k < acquired.length; i++, k++) {
    if (!samePlace(now[i]!, acquired[k]!)) return false;
  }
  return true;
}
