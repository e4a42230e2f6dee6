/**
 * Misuse: a primitive used against its rules (double release, release by a non-owner,
 * over-release, a condition without its lock), from the probe's misuse codes.
 */
import type { FindingContext } from './context.js';
import { MISUSE_CODES } from '../../protocol.js';
import { reportSelfDeadlock } from './self-deadlock.js';
import { type ResourceState, type TaskState } from '../model.js';

export function reportMisuse(
  ctx: FindingContext,
  t: TaskState,
  r: ResourceState | undefined,
  site: number,
  code: number,
  at: number,
) {
  const what = MISUSE_CODES[code] ?? `misuse code ${code}`;
  if (what === 'self-deadlock' && r) {
    reportSelfDeadlock(ctx, t, r, r.holders.get(t)?.site ?? 0, site || t.waitSite, at);
    return;
  }
  const name = r?.name ?? 'a resource';
  const messages: Record<string, [string, string]> = {
    'release-not-held': [
      `${t.name} released ${name}, which it does not hold (a double release).`,
      'Release each acquisition exactly once: hold the guard in a `using` declaration.',
    ],
    'release-by-non-owner': [
      `${t.name} released ${name}, which another task holds.`,
      'Release a lock from the task that acquired it; to hand work over, use a channel.',
    ],
    'over-release': [
      `${t.name} released ${name} beyond its initial count.`,
      'Release only permits that were acquired, through the guard that acquire() returned.',
    ],
    'wait-without-lock': [
      `${t.name} waited on or notified ${name} without holding its mutex.`,
      'Acquire the condition’s mutex before wait() or notify(), and check the state under it.',
    ],
    'unbalanced-release': [
      `${t.name} released ${name} more times than it acquired it.`,
      'Pair every acquisition with one release, through its guard.',
    ],
  };
  const [message, fix] = messages[what] ?? [`${t.name} misused ${name}: ${what}.`, ''];
  ctx.emit({
    kind: 'misuse',
    severity: 'error',
    title: `Misuse of ${name}: ${what}`,
    id: `misuse:${what}:${r ? r.cls || r.name : ''}:${ctx.siteKey(t.proc, site)}`,
    message,
    tasks: [t],
    resources: r ? [r] : [],
    sites: [ctx.site(t.proc, site, 'misuse', `${t.name}: ${what}`)],
    fix,
    at,
  });
}
