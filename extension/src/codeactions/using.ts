/**
 * "Convert to `using`": rewrites `const g = await m.acquire()` whose guard is released by hand
 * into `using g = await m.acquire()`, so that it is released when its block ends, on every path.
 * Also rewrites `await m.runExclusive(async () => { ... })` statements into a block that starts
 * with `using guard = await m.acquire()`.
 *
 * Handled (each pinned by a test with its exact output):
 * - the releases sit where the block ends anyway: last in the block, right before a `return` or
 *   `throw` whose value computes nothing, or a `break`/`continue` that leaves the block, including
 *   inside `if`/`else` branches and `try` blocks that lead there (early returns);
 * - `try { ... } finally { g.release(); }`: the try's statements move one level out and the
 *   `finally` goes; when that would declare a name twice, the try becomes a plain block; a
 *   `catch` stays; a `finally` whose other statements come before the release stays with just
 *   those (one whose statements come after the release is declined: `using` would hold the lock
 *   over them);
 * - a last release followed by more work in the same block: the acquisition and the statements up
 *   to that release are wrapped in a new `{ ... }` block, so the lock is not held longer;
 * - `await g.release()` makes it `await using`;
 * - a guard never released at all gets its `using` declaration too;
 * - several acquisitions at once (a selection), nested or in sequence.
 *
 * Declined (no action offered): `var` declarations; a guard that escapes (returned, passed to a
 * call, stored, reassigned) or is used inside a nested function; a release inside an expression
 * (`ok && g.release()`) or as the whole body of an `if` without braces; a release followed by
 * more work that wrapping cannot isolate (inside a branch, or a name declared before the release
 * is used after it); for `runExclusive`, see runexclusive.ts.
 *
 * Comments are never moved or dropped: only keywords, braces and release statements are deleted,
 * and a line is removed only when nothing but spaces is left on it.
 */
import ts from 'typescript';
import {
  EditBuilder,
  ancestors,
  eolOf,
  fileChecker,
  indentAt,
  indentUnitOf,
  innermostNodeAt,
  isFunctionBoundary,
  leadingWhitespace,
  lineEndOf,
  lineStartOf,
  nextLineStart,
  normalizeCursor,
  parseSource,
  tokensBetween,
  type TextEdit,
} from './edits.js';
import {
  declaredNames,
  guardUses,
  matchAcquisition,
  mentionsAny,
  statementsOf,
  type Acquisition,
} from './guards.js';
import { isReleaseStatement, jumpTarget } from './jumps.js';
import { emitRunExclusive, matchRunExclusive, type RunExclusive } from './runexclusive.js';

/**
 * The edits converting the acquisition (or `runExclusive` statement) at `start` into `using`, or
 * every convertible one that a selection [start, end) touches; undefined when none applies.
 */
export function convertToUsing(
  sourceText: string,
  fileName: string,
  start: number,
  end = start,
): TextEdit[] | undefined {
  const sf = parseSource(sourceText, fileName);
  const targets =
    start === end
      ? targetAtCursor(sf, normalizeCursor(sourceText, start))
      : targetsIn(sf, start, end);
  if (targets.length === 0) return undefined;
  const checker = fileChecker(sf);
  // Two wrapped scopes cannot cross: a wrap that held a later acquisition used after it would
  // hide that guard's declaration, which canWrap refuses.
  const plans = targets
    .map((t) => planFor(sf, checker, t))
    .filter((p): p is Plan => p !== undefined);
  if (plans.length === 0) return undefined;
  const builder = new EditBuilder(sf);
  emitPlans(sf, builder, plans);
  return builder.build();
}

// Finding what to convert.

type Target = Acquisition | RunExclusive;

function targetAtCursor(sf: ts.SourceFile, pos: number): Target[] {
  for (const node of ancestors(innermostNodeAt(sf, pos))) {
    const target = matchTarget(node);
    if (target) return [target];
    if (isFunctionBoundary(node)) return [];
  }
  return [];
}

function targetsIn(sf: ts.SourceFile, start: number, end: number): Target[] {
  const found: Target[] = [];
  const visit = (node: ts.Node): void => {
    if (node.getEnd() < start || node.getStart(sf) > end) return;
    const target = matchTarget(node);
    if (target) found.push(target);
    node.forEachChild(visit);
  };
  visit(sf);
  return found;
}

function matchTarget(node: ts.Node): Target | undefined {
  return matchAcquisition(node) ?? matchRunExclusive(node);
}

// Planning: everything is checked before any edit is made.

/** Where the guard's `using` declaration will live: statements (first, last] of `block`. */
interface Scope {
  block: ts.Node;
  statements: ts.NodeArray<ts.Statement>;
  first: number;
  last: number;
  /** True when those statements must be wrapped in a new block to end the scope there. */
  wrap: boolean;
}

interface AcquisitionPlan {
  kind: 'acquisition';
  acq: Acquisition;
  releases: ts.ExpressionStatement[];
  awaitUsing: boolean;
  scope: Scope;
}

interface RunExclusivePlan {
  kind: 'runExclusive';
  run: RunExclusive;
}

type Plan = AcquisitionPlan | RunExclusivePlan;

function planFor(sf: ts.SourceFile, checker: ts.TypeChecker, target: Target): Plan | undefined {
  if ('fn' in target) return { kind: 'runExclusive', run: target };
  return planAcquisition(sf, checker, target);
}

function planAcquisition(
  sf: ts.SourceFile,
  checker: ts.TypeChecker,
  acq: Acquisition,
): AcquisitionPlan | undefined {
  if (acq.keyword !== 'const' && acq.keyword !== 'let') return undefined;
  const block = acq.statement.parent;
  const statements = statementsOf(block);
  if (!statements) return undefined;
  const uses = guardUses(checker, acq.name, block);
  const releases: ts.ExpressionStatement[] = [];
  let awaitUsing = false;
  for (const use of uses) {
    if (use.kind === 'property') continue;
    if (use.kind !== 'release' || !inStatementList(use.statement)) return undefined;
    releases.push(use.statement);
    awaitUsing ||= use.awaited;
  }
  const first = statements.indexOf(acq.statement);
  const lastUse = Math.max(first, ...uses.map((u) => topIndex(u.node, block, statements)));
  const scopes = candidateScopes(sf, { block, statements, first, last: 0, wrap: false }, lastUse);
  const scope = scopes.find((s) => releases.every((r) => reachesScopeEnd(r, s)));
  return scope && { kind: 'acquisition', acq, releases, awaitUsing, scope };
}

/** A release can only be deleted from a list of statements; `if (x) g.release();` is declined. */
function inStatementList(statement: ts.Statement): boolean {
  return statementsOf(statement.parent) !== undefined || ts.isCaseOrDefaultClause(statement.parent);
}

/** The index of the statement of `block` that contains `node`. */
function topIndex(node: ts.Node, block: ts.Node, statements: readonly ts.Statement[]): number {
  for (const a of ancestors(node)) {
    if (a.parent === block) return statements.indexOf(a as ts.Statement);
  }
  return -1;
}

/**
 * The scopes to try, best first: to the end of the block, then (when statements after the last
 * use do not depend on what the wrapped ones declare) a new block ending at the last use.
 */
function candidateScopes(sf: ts.SourceFile, base: Scope, lastUse: number): Scope[] {
  const end = base.statements.length - 1;
  const scopes: Scope[] = [{ ...base, last: end }];
  if (lastUse < end && canWrap(sf, base, lastUse)) {
    scopes.push({ ...base, last: lastUse, wrap: true });
  }
  return scopes;
}

function canWrap(sf: ts.SourceFile, scope: Scope, last: number): boolean {
  const text = sf.text;
  const firstStatement = scope.statements[scope.first];
  const lastStatement = scope.statements[last];
  if (!firstStatement || !lastStatement) return false;
  const start = firstStatement.getStart(sf);
  if (
    leadingWhitespace(text, lineStartOf(text, start)).length !==
    start - lineStartOf(text, start)
  ) {
    return false;
  }
  const after = text.slice(lastStatement.getEnd(), lineEndOf(text, lastStatement.getEnd()));
  if (!/^\s*(\/\/.*)?$/.test(after)) return false;
  const inside = new Set(declaredNames(scope.statements.slice(scope.first, last + 1)));
  return !scope.statements.slice(last + 1).some((s) => mentionsAny(s, inside));
}

/**
 * True when, once `statement` has run, nothing else runs before control leaves the scope: then
 * releasing at the scope's end (what `using` does) is the same as releasing here.
 */
function reachesScopeEnd(statement: ts.Statement, scope: Scope): boolean {
  const parent = statement.parent;
  const list =
    statementsOf(parent) ?? (ts.isCaseOrDefaultClause(parent) ? parent.statements : undefined);
  if (!list) {
    return (
      (ts.isIfStatement(parent) || ts.isLabeledStatement(parent)) && reachesScopeEnd(parent, scope)
    );
  }
  const index = list.indexOf(statement);
  const last = parent === scope.block ? scope.last : list.length - 1;
  // Releases of other guards may follow: with `using` they all happen as the scope ends.
  let next = index + 1;
  while (next <= last && isReleaseStatement(list[next])) next++;
  if (next <= last) {
    const jump = list[next];
    return jump !== undefined && jumpLeavesScope(jump, scope);
  }
  if (parent === scope.block) return true;
  if (ts.isCaseOrDefaultClause(parent)) {
    const clauses = parent.parent.clauses;
    return parent === clauses[clauses.length - 1] && reachesScopeEnd(parent.parent.parent, scope);
  }
  return blockReachesScopeEnd(parent, scope);
}

function blockReachesScopeEnd(block: ts.Node, scope: Scope): boolean {
  const p = block.parent;
  if (ts.isIfStatement(p) || ts.isLabeledStatement(p)) return reachesScopeEnd(p, scope);
  if (statementsOf(p) || ts.isCaseOrDefaultClause(p)) {
    return reachesScopeEnd(block as ts.Block, scope);
  }
  if (ts.isTryStatement(p)) {
    return (block === p.finallyBlock || finallyOnlyReleases(p)) && reachesScopeEnd(p, scope);
  }
  if (ts.isCatchClause(p)) return finallyOnlyReleases(p.parent) && reachesScopeEnd(p.parent, scope);
  return false;
}

function finallyOnlyReleases(t: ts.TryStatement): boolean {
  return !t.finallyBlock || t.finallyBlock.statements.every(isReleaseStatement);
}

/** True when `jump` leaves the scope with nothing run on the way but releases. */
function jumpLeavesScope(jump: ts.Statement, scope: Scope): boolean {
  if (ts.isReturnStatement(jump)) {
    return (
      (!jump.expression || isCheap(jump.expression, false)) && passesOnlyReleases(jump, scope.block)
    );
  }
  if (ts.isThrowStatement(jump)) {
    return (
      isCheap(jump.expression, true) &&
      !caughtBefore(jump, scope.block) &&
      passesOnlyReleases(jump, scope.block)
    );
  }
  if (!ts.isBreakStatement(jump) && !ts.isContinueStatement(jump)) return false;
  const target = jumpTarget(jump);
  if (!target) return false;
  if (!withinScope(target, scope)) return passesOnlyReleases(jump, scope.block);
  return (
    ts.isBreakStatement(jump) && passesOnlyReleases(jump, target) && reachesScopeEnd(target, scope)
  );
}

/** True when the statement lies in the scope's statements (first, last]. */
function withinScope(node: ts.Node, scope: Scope): boolean {
  const index = topIndex(node, scope.block, scope.statements);
  return index > scope.first && index <= scope.last;
}

/** True when every `finally` that `node` passes on its way out to `upTo` only releases. */
function passesOnlyReleases(node: ts.Node, upTo: ts.Node): boolean {
  for (const a of ancestors(node.parent)) {
    if (a === upTo) return true;
    if (ts.isTryStatement(a) && !isInside(node, a.finallyBlock) && !finallyOnlyReleases(a)) {
      return false;
    }
  }
  return true;
}

/** True when a `catch` between `node` and `upTo` would catch what `node` throws. */
function caughtBefore(node: ts.Node, upTo: ts.Node): boolean {
  for (const a of ancestors(node.parent)) {
    if (a === upTo) return false;
    if (ts.isTryStatement(a) && a.catchClause && isInside(node, a.tryBlock)) return true;
  }
  return false;
}

function isInside(node: ts.Node, container: ts.Node | undefined): boolean {
  return container !== undefined && node.pos >= container.pos && node.end <= container.end;
}

/** True when evaluating `expr` runs no code of its own (no call, await; `new` only if allowed). */
function isCheap(expr: ts.Node, allowNew: boolean): boolean {
  if (isFunctionBoundary(expr)) return true;
  if (
    ts.isCallExpression(expr) ||
    ts.isAwaitExpression(expr) ||
    ts.isTaggedTemplateExpression(expr)
  ) {
    return false;
  }
  if (ts.isNewExpression(expr) && !allowNew) return false;
  return expr.forEachChild((c) => (isCheap(c, allowNew) ? undefined : true)) === undefined;
}

// Emitting the edits.

function emitPlans(sf: ts.SourceFile, builder: EditBuilder, plans: Plan[]): void {
  const removed = new Set<ts.Statement>();
  for (const p of plans) if (p.kind === 'acquisition') for (const r of p.releases) removed.add(r);
  const tries = new Set<ts.TryStatement>();
  for (const plan of plans) {
    if (plan.kind === 'runExclusive') {
      emitRunExclusive(sf, builder, plan.run);
      continue;
    }
    emitAcquisition(sf, builder, plan);
    for (const release of plan.releases) {
      const t = release.parent.parent;
      if (ts.isTryStatement(t) && release.parent === t.finallyBlock) tries.add(t);
      else builder.deleteSpan(release.getStart(sf), release.getEnd());
    }
  }
  for (const t of tries) emitTry(sf, builder, t, removed, siblingsOf(t, plans));
}

/**
 * The statements a try's body would join if it were un-nested: those around it, or only those
 * of a wrapped scope when the try is one of the statements being wrapped.
 */
function siblingsOf(t: ts.TryStatement, plans: Plan[]): readonly ts.Statement[] | undefined {
  const outer =
    statementsOf(t.parent) ??
    (ts.isCaseOrDefaultClause(t.parent) ? t.parent.statements : undefined);
  if (!outer) return undefined;
  for (const plan of plans) {
    const scope = plan.kind === 'acquisition' ? plan.scope : undefined;
    if (scope?.wrap && scope.block === t.parent) {
      const index = outer.indexOf(t);
      if (index > scope.first && index <= scope.last) {
        return outer.slice(scope.first, scope.last + 1);
      }
    }
  }
  return outer;
}

function emitAcquisition(sf: ts.SourceFile, builder: EditBuilder, plan: AcquisitionPlan): void {
  const list = plan.acq.statement.declarationList;
  const keywordStart = list.getStart(sf);
  builder.replace(
    keywordStart,
    keywordStart + plan.acq.keyword.length,
    plan.awaitUsing ? 'await using' : 'using',
  );
  if (plan.scope.wrap) emitWrap(sf, builder, plan.scope);
}

/** Wraps the scope's statements in a new block, indented one level more. */
function emitWrap(sf: ts.SourceFile, builder: EditBuilder, scope: Scope): void {
  const text = sf.text;
  const eol = eolOf(text);
  const first = scope.statements[scope.first];
  const last = scope.statements[scope.last];
  if (!first || !last) return;
  const lineStart = lineStartOf(text, first.getStart(sf));
  const indent = leadingWhitespace(text, lineStart);
  builder.insert(lineStart, `${indent}{${eol}`);
  builder.indentLines(lineStart, last.getEnd(), indentUnitOf(text));
  const after = nextLineStart(text, last.getEnd());
  if (after === text.length && !text.endsWith('\n')) builder.insert(after, `${eol}${indent}}`);
  else builder.insert(after, `${indent}}${eol}`);
}

/**
 * A `try` whose `finally` held releases: the releases go; when nothing else was in the
 * `finally`, the `finally` goes too and, without a `catch`, so does the `try`, its statements
 * moving one level out. Comments in the removed parts stay where they were.
 */
function emitTry(
  sf: ts.SourceFile,
  builder: EditBuilder,
  t: ts.TryStatement,
  removed: Set<ts.Statement>,
  siblings: readonly ts.Statement[] | undefined,
): void {
  const fin = t.finallyBlock;
  if (!fin) return;
  for (const s of fin.statements) {
    if (removed.has(s)) builder.deleteSpan(s.getStart(sf), s.getEnd());
  }
  if (!fin.statements.every((s) => removed.has(s))) return;
  const finallyKeyword = tokensBetween(
    sf,
    (t.catchClause ?? t.tryBlock).getEnd(),
    fin.getStart(sf),
  ).find((tok) => tok.kind === ts.SyntaxKind.FinallyKeyword);
  if (!finallyKeyword) return;
  const deleteToken = (start: number, end: number): void => builder.deleteSpan(start, end);
  deleteToken(finallyKeyword.start, finallyKeyword.end);
  deleteToken(fin.getStart(sf), fin.getStart(sf) + 1);
  deleteToken(fin.getEnd() - 1, fin.getEnd());
  const delta = bodyIndentDelta(sf, t, t.catchClause ? fin : t.tryBlock);
  if (t.catchClause) {
    builder.dedentLines(fin.getStart(sf) + 1, fin.getEnd(), delta);
    return;
  }
  if (!siblings || unwrapCollides(t, siblings)) {
    // Moving the statements out would declare a name twice, or they would have no list of
    // statements to join (`if (x) try ...`): keep them in a plain block instead.
    deleteToken(t.getStart(sf), t.tryBlock.getStart(sf));
    return;
  }
  deleteToken(t.getStart(sf), t.getStart(sf) + 3);
  deleteToken(t.tryBlock.getStart(sf), t.tryBlock.getStart(sf) + 1);
  deleteToken(t.tryBlock.getEnd() - 1, t.tryBlock.getEnd());
  builder.dedentLines(t.tryBlock.getStart(sf) + 1, fin.getEnd(), delta);
}

/** How much deeper than the `try` line the first line of `block`'s contents is indented. */
function bodyIndentDelta(sf: ts.SourceFile, t: ts.TryStatement, block: ts.Block): number {
  const text = sf.text;
  const base = indentAt(text, t.getStart(sf)).length;
  for (
    let line = nextLineStart(text, block.getStart(sf));
    line < block.getEnd();
    line = nextLineStart(text, line)
  ) {
    const ws = leadingWhitespace(text, line);
    if (ws.length < lineEndOf(text, line) - line) return Math.max(0, ws.length - base);
    if (nextLineStart(text, line) === line) break;
  }
  return 0;
}

/** True when the try block declares a name that its new surroundings declare too. */
function unwrapCollides(t: ts.TryStatement, siblings: readonly ts.Statement[]): boolean {
  const inner = new Set(declaredNames(t.tryBlock.statements));
  return declaredNames(siblings.filter((s) => s !== t)).some((n) => inner.has(n));
}
