/**
 * Certainty, defined once for every finding: the first rule of the product is that a tool that
 * says "deadlock" must be right. A finding whose tasks the probe could not tell apart exactly,
 * or that was found after events were lost, is uncertain (see `Certainty` in types.ts).
 */
import type { FindingDraft } from './findings/context.js';
import type { UncertaintyReason } from './types.js';

/** Appended to the name of a task whose identity is uncertain, wherever the name is shown. */
export const UNCERTAIN_MARK = ' ?';

/** Why a finding is uncertain, in a fixed order; empty when it is exact. */
export function uncertaintyOf(f: FindingDraft): UncertaintyReason[] {
  const reasons: UncertaintyReason[] = [];
  if (f.tasks.some((t) => t.uncertain)) reasons.push('identity');
  const procs = new Set([...f.tasks.map((t) => t.proc), ...f.resources.map((r) => r.proc)]);
  // A stream that lost events, or that registered one resource as two kinds (which only a
  // broken or hostile producer does), cannot be trusted whole; nor can what a thread ended from
  // outside seems to have left, since it could not send its last events.
  if (f.lost || [...procs].some((p) => p.dropped > 0 || p.conflicts > 0)) reasons.push('gap');
  return reasons;
}
