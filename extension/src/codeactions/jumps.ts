/**
 * Small control-flow facts shared by the `using` conversion and the unreleased-lock check: what
 * a `break` or `continue` jumps to, and which statements only release a guard.
 */
import ts from 'typescript';
import { isFunctionBoundary } from './edits.js';

/** `x.release();` or `await x.release();` for any identifier `x`. */
export function isReleaseStatement(node: ts.Node | undefined): boolean {
  if (!node || !ts.isExpressionStatement(node)) return false;
  const expr = ts.isAwaitExpression(node.expression) ? node.expression.expression : node.expression;
  return (
    ts.isCallExpression(expr) &&
    expr.arguments.length === 0 &&
    ts.isPropertyAccessExpression(expr.expression) &&
    ts.isIdentifier(expr.expression.expression) &&
    expr.expression.name.text === 'release'
  );
}

/** The statement a `break` or `continue` leaves (the loop for `continue`), if it is found. */
export function jumpTarget(jump: ts.BreakOrContinueStatement): ts.Statement | undefined {
  const label = jump.label?.text;
  for (let n: ts.Node = jump.parent; !isFunctionBoundary(n) && !ts.isSourceFile(n); n = n.parent) {
    if (label !== undefined) {
      if (ts.isLabeledStatement(n) && n.label.text === label) {
        return ts.isBreakStatement(jump) ? n : loopUnderLabel(n);
      }
    } else if (ts.isIterationStatement(n, false)) {
      return n;
    } else if (ts.isSwitchStatement(n) && ts.isBreakStatement(jump)) {
      return n;
    }
  }
  return undefined;
}

function loopUnderLabel(labeled: ts.LabeledStatement): ts.Statement | undefined {
  let s: ts.Statement = labeled.statement;
  while (ts.isLabeledStatement(s)) s = s.statement;
  return ts.isIterationStatement(s, false) ? s : undefined;
}
