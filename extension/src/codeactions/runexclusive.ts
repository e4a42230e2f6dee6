/**
 * The `runExclusive` part of "Convert to `using`":
 * `await m.runExclusive(async () => { body }, opts);` becomes a block that starts with
 * `using guard = await m.acquire(opts);`, followed by the body's statements.
 *
 * Only an awaited call used as a statement, with an arrow function without parameters and with a
 * block body, is converted: the callback's value would be lost in a block, its `return` would
 * return from the enclosing function instead, and a call that is not awaited runs concurrently.
 */
import ts from 'typescript';
import {
  EditBuilder,
  endsWithSemicolon,
  eolOf,
  indentAt,
  indentUnitOf,
  isFunctionBoundary,
  lineEndOf,
} from './edits.js';
import { mentionsAny } from './guards.js';

/** `await lock.runExclusive(async () => { ... }, options?);` as a statement of its own. */
export interface RunExclusive {
  statement: ts.ExpressionStatement;
  receiver: ts.Expression;
  fn: ts.ArrowFunction;
  body: ts.Block;
  options: ts.Expression | undefined;
}

/** Matches a `runExclusive` statement that a block with a `using` declaration can replace. */
export function matchRunExclusive(node: ts.Node): RunExclusive | undefined {
  if (!ts.isExpressionStatement(node) || !ts.isAwaitExpression(node.expression)) return undefined;
  const call = node.expression.expression;
  if (!ts.isCallExpression(call) || !ts.isPropertyAccessExpression(call.expression)) {
    return undefined;
  }
  if (call.expression.name.text !== 'runExclusive') return undefined;
  const [fn, options, ...more] = call.arguments;
  if (!fn || more.length > 0 || !ts.isArrowFunction(fn) || fn.parameters.length > 0) {
    return undefined;
  }
  if (!ts.isBlock(fn.body) || containsReturn(fn.body)) return undefined;
  return {
    statement: node,
    receiver: call.expression.expression,
    fn,
    body: fn.body,
    options,
  };
}

/** True when a `return` of this function's own body is found, which a block could not keep. */
function containsReturn(node: ts.Node): boolean {
  if (ts.isReturnStatement(node)) return true;
  if (isFunctionBoundary(node)) return false;
  return node.forEachChild((c) => containsReturn(c) || undefined) ?? false;
}

/**
 * `await m.runExclusive(async () => { body }, opts);` becomes
 * `{ using guard = await m.acquire(opts); body }`, the body's lines untouched: the callback's
 * body is already indented one level deeper than the statement, as the new block's must be.
 */
export function emitRunExclusive(sf: ts.SourceFile, builder: EditBuilder, run: RunExclusive): void {
  const text = sf.text;
  const name = freshName(run.body, 'guard');
  const options = run.options ? run.options.getText(sf) : '';
  const declaration = `using ${name} = await ${run.receiver.getText(sf)}.acquire(${options})`;
  const open = run.body.getStart(sf);
  builder.replace(run.statement.getStart(sf), open + 1, '{');
  const restOfLine = text.slice(open + 1, lineEndOf(text, open));
  if (
    /^\s*(\/\/.*|\/\*.*\*\/\s*)?$/.test(restOfLine) &&
    lineEndOf(text, open) < run.body.getEnd()
  ) {
    const inner = firstStatementIndent(sf, run) ?? indentAt(text, open) + indentUnitOf(text);
    const semi = needsSemicolon(sf, run) ? ';' : '';
    builder.insert(lineEndOf(text, open), `${eolOf(text)}${inner}${declaration}${semi}`);
  } else {
    // On one line, a statement needs its semicolon whatever the file's style.
    builder.insert(open + 1, ` ${declaration};`);
  }
  builder.replace(run.body.getEnd() - 1, run.statement.getEnd(), '}');
}

/**
 * The file's style decides, except that in a file without semicolons a line that starts with
 * `(`, `[`, a template or an operator would continue the declaration's expression.
 */
function needsSemicolon(sf: ts.SourceFile, run: RunExclusive): boolean {
  if (endsWithSemicolon(sf, run.statement)) return true;
  const first = run.body.statements[0];
  return first !== undefined && /^[([`+\-/*]/.test(first.getText(sf));
}

function firstStatementIndent(sf: ts.SourceFile, run: RunExclusive): string | undefined {
  const first = run.body.statements[0];
  return first && indentAt(sf.text, first.getStart(sf));
}

/** `base`, or `base2`, `base3`... : the first that the block does not mention. */
function freshName(block: ts.Node, base: string): string {
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base}${n}`;
    if (!mentionsAny(block, new Set([name]))) return name;
  }
}
