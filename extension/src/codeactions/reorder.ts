/**
 * "Take the locks in one order": for a lock-order inversion, swaps two acquisitions of one block
 * so that the lock the analysis recommends comes first.
 *
 * Only the two statements' texts swap; comments above or beside them stay on their lines. The
 * action is declined when the statements between the two (or the second acquisition itself) use
 * the first guard, or when the second acquisition uses a name declared between them, since the
 * moved statements would then refer to something not yet there.
 */
import ts from 'typescript';
import {
  ancestors,
  innermostNodeAt,
  isFunctionBoundary,
  normalizeCursor,
  parseSource,
  type TextEdit,
} from './edits.js';
import {
  compactText,
  declaredNames,
  matchAcquisition,
  mentionsAny,
  statementsOf,
  type Acquisition,
} from './guards.js';

/**
 * The edits that make the acquisition of `firstLock` come before the other acquisition it is
 * paired with, for the acquisition at `pos`. `firstLock` is the lock's expression (`this.left`)
 * or its last name (`left`). Undefined when the order is already right or the swap is unsafe.
 */
export function reorderAcquisitions(
  sourceText: string,
  fileName: string,
  pos: number,
  firstLock: string,
): TextEdit[] | undefined {
  const sf = parseSource(sourceText, fileName);
  const here = acquisitionAt(sf, normalizeCursor(sourceText, pos));
  if (!here) return undefined;
  const list = statementsOf(here.statement.parent);
  if (!list) return undefined;
  const acquisitions = list.map((s) => matchAcquisition(s));
  const index = list.indexOf(here.statement);
  const wanted = (a: Acquisition | undefined): boolean =>
    a !== undefined && isLock(sf, a, firstLock);
  const pair = wanted(here)
    ? findPartner(acquisitions, index, -1, (a) => a !== undefined && !wanted(a))
    : findPartner(acquisitions, index, 1, wanted);
  if (pair === undefined) return undefined;
  const [early, late] = pair < index ? [pair, index] : [index, pair];
  return swap(sf, list, early, late);
}

function acquisitionAt(sf: ts.SourceFile, pos: number): Acquisition | undefined {
  for (const node of ancestors(innermostNodeAt(sf, pos))) {
    const acq = matchAcquisition(node);
    if (acq) return acq;
    if (isFunctionBoundary(node)) return undefined;
  }
  return undefined;
}

/** True when the acquisition takes `lock`, written as its expression or as its last name. */
function isLock(sf: ts.SourceFile, acq: Acquisition, lock: string): boolean {
  const wanted = lock.replace(/\s+/g, '');
  if (compactText(sf, acq.receiver) === wanted) return true;
  const r = acq.receiver;
  const last = ts.isIdentifier(r)
    ? r.text
    : ts.isPropertyAccessExpression(r)
      ? r.name.text
      : undefined;
  return last === wanted;
}

/** The nearest index from `index` in direction `step` whose acquisition passes `test`. */
function findPartner(
  acquisitions: (Acquisition | undefined)[],
  index: number,
  step: 1 | -1,
  test: (a: Acquisition | undefined) => boolean,
): number | undefined {
  for (let i = index + step; i >= 0 && i < acquisitions.length; i += step) {
    if (test(acquisitions[i])) return i;
  }
  return undefined;
}

function swap(
  sf: ts.SourceFile,
  list: readonly ts.Statement[],
  early: number,
  late: number,
): TextEdit[] | undefined {
  const first = list[early];
  const second = list[late];
  const firstAcq = first && matchAcquisition(first);
  if (!first || !second || !firstAcq) return undefined;
  const between = list.slice(early + 1, late);
  const guard = new Set([firstAcq.name.text]);
  if ([...between, second].some((s) => mentionsAny(s, guard))) return undefined;
  if (mentionsAny(second, new Set(declaredNames(between)))) return undefined;
  return [
    { start: first.getStart(sf), end: first.getEnd(), newText: second.getText(sf) },
    { start: second.getStart(sf), end: second.getEnd(), newText: first.getText(sf) },
  ];
}
