/**
 * The wait-for semantics: for a task that waits, which tasks could end its wait now ("who can
 * wake me"), per kind of resource. Pure functions of the state model.
 */
import { WAIT_JOIN, WAIT_SEND } from '../protocol.js';
import { Role, type ResourceState, type TaskState } from './model.js';

/** A task that takes part in the wait-for graph: it waits, and has not ended. */
export function isWaiting(t: TaskState): boolean {
  return t.blocked && !t.ended;
}

/**
 * Whether a wait in direction `dir` on a channel counts on the tasks that receive from it: a
 * send waits for a receiver, and a join for receivers to mark their values done. Other waits
 * count on the tasks that signalled (sent to the channel, set, notified, arrived).
 */
export function wokenByReceivers(dir: number): boolean {
  return dir === WAIT_SEND || dir === WAIT_JOIN;
}

/** Whether `t` waits in a channel's join() (for every value sent to be marked done). */
export function joinsChannel(t: TaskState): boolean {
  return t.waitRes?.kind === 'channel' && t.waitDir === WAIT_JOIN;
}

/** The tasks that signalled `r` before, which a wait in direction `dir` counts on. */
export function likelySignallers(r: ResourceState, dir: number): ReadonlyMap<TaskState, number> {
  return wokenByReceivers(dir) ? r.receivers : r.signallers;
}

/** A task waiting for another to end (a join, and nothing else), which signals nothing until then. */
export function waitsToJoin(t: TaskState): boolean {
  return isWaiting(t) && t.waitRes?.role === Role.Join && !t.waitAlso;
}

/**
 * The tasks that `t` waits for. With `definite`, only waits that cannot end unless those tasks
 * move: a lock's holders, a joined task. Otherwise also the likely wakers of permits and
 * signals: permit holders, earlier senders, notifiers, arrivers.
 */
export function successors(t: TaskState, definite: boolean): Iterable<TaskState> {
  const r = t.waitRes;
  if (!r) return [];
  if (!t.waitAlso) return wakers(t, r, t.waitDir, definite);
  // A select can be woken through any of its cases.
  const all = new Set<TaskState>(wakers(t, r, t.waitDir, definite));
  t.waitAlso.forEach((c, i) => {
    for (const w of wakers(t, c, t.waitAlsoDir![i]!, definite)) all.add(w);
  });
  return all;
}

/** The tasks that could end `t`'s wait on `r` (in direction `dir`, for a channel). */
function wakers(
  t: TaskState,
  r: ResourceState,
  dir: number,
  definite: boolean,
): Iterable<TaskState> {
  switch (r.role) {
    case Role.Lock:
      return r.kind === 'rwlock' ? rwWakers(t, r) : r.holders.keys();
    case Role.Join:
      return t.joinTarget ? [t.joinTarget] : [];
    case Role.Permits:
      return definite ? [] : r.holders.keys();
    case Role.Signal: {
      if (definite) return [];
      // A signaller that now waits for a task to end has done its part: a producer that sent
      // everything and joins its consumer over a channel nobody closed is a forgotten close,
      // not a cycle through the producer. Parties already waiting at a barrier have arrived:
      // only one that has not can let it pass, so a barrier short of a party is blocked
      // forever, not a cycle of its parties.
      const barrier = r.kind === 'barrier' || r.kind === 'shared-barrier';
      const out: TaskState[] = [];
      for (const c of likelySignallers(r, dir).keys()) {
        if (!waitsToJoin(c) && !(barrier && r.waiters.has(c))) out.push(c);
      }
      return out;
    }
  }
}

/**
 * Who must go before `t` gets a read-write lock: its holders, and the waiters the policy puts
 * ahead of it. Writer-preferring: a reader waits behind every waiting writer (so a reader that
 * re-enters while a writer waits is a read-write-read deadlock); a writer behind the holders.
 * Fair: everyone who began to wait earlier.
 */
function rwWakers(t: TaskState, r: ResourceState): TaskState[] {
  const out = [...r.holders.keys()];
  // The waiters set keeps the order in which the waits began.
  for (const w of r.waiters) {
    if (w === t) {
      if (r.policy === 'fair') break;
      continue;
    }
    if (w.waitRes !== r) continue;
    if (r.policy === 'fair' || (t.waitDir === 1 && w.waitDir === 2)) out.push(w);
  }
  return out;
}

/** Whether every wait of `cycle` (each task waiting for the next) still stands, definitely. */
export function cycleStands(cycle: readonly TaskState[]): boolean {
  return cycle.every((from, i) => {
    const to = cycle[(i + 1) % cycle.length]!;
    if (!from.blocked || from.ended) return false;
    for (const next of successors(from, true)) if (next === to) return true;
    return false;
  });
}
