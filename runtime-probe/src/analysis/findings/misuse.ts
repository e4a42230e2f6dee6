/**
 * Misuse: a primitive used against its rules (double release, release by a non-owner,
 * over-release, a condition without its lock), from the probe's misuse codes. (Its
 * `self-deadlock` code is a self-deadlock, confirmed by the transitions.)
 */
import { misuseWords, siteWords } from '../wording.js';
import type { FindingContext } from './context.js';
import { MISUSE_CODES } from '../../protocol.js';
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
  const name = r?.name ?? 'a resource';
  const [message, fix] = misuseWords.explain(what, t.name, name);
  ctx.emit({
    kind: 'misuse',
    severity: 'error',
    title: misuseWords.title(name, what),
    id: `misuse:${what}:${r ? r.cls || r.name : ''}:${ctx.siteKey(t.proc, site)}`,
    message,
    tasks: [t],
    resources: r ? [r] : [],
    sites: [ctx.site(t.proc, site, 'misuse', siteWords.misuse(t.name, what))],
    fix,
    at,
  });
}
