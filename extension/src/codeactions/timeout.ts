/**
 * "Add a timeout": `await m.acquire()` becomes `await m.acquire({ timeout: 1000 })`, and an
 * options object gains a `timeout` property, so that a wait that would block forever rejects
 * with a TimeoutError instead.
 *
 * Applies to the blocking calls of the lockscope primitives: acquire, acquireSync, read, write,
 * wait, join, recv (options first), send and runExclusive (options second). The options argument must be
 * absent or an object literal: any other argument (`write(buffer)`) is probably not lockscope's,
 * so the action is declined, as it is when a `timeout` is already given.
 */
import ts from 'typescript';
import {
  ancestors,
  eolOf,
  indentAt,
  innermostNodeAt,
  isFunctionBoundary,
  normalizeCursor,
  parseSource,
  type TextEdit,
} from './edits.js';

/** Which argument holds the options, by method name. */
const OPTIONS_INDEX: ReadonlyMap<string, number> = new Map([
  ['acquire', 0],
  ['acquireSync', 0],
  ['read', 0],
  ['write', 0],
  ['wait', 0],
  ['join', 0],
  ['recv', 0],
  ['send', 1],
  ['runExclusive', 1],
]);

/** The edit adding `timeout: ms` to the blocking call at `pos`, or undefined. */
export function addTimeout(
  sourceText: string,
  fileName: string,
  pos: number,
  ms = 1000,
): TextEdit[] | undefined {
  const sf = parseSource(sourceText, fileName);
  const call = blockingCallAt(sf, normalizeCursor(sourceText, pos));
  if (!call) return undefined;
  const edit = timeoutEdit(sf, call.call, call.index, `timeout: ${ms}`);
  return edit && [edit];
}

interface BlockingCall {
  call: ts.CallExpression;
  index: number;
}

/** The blocking call around `pos`, or else the first one in the statement around `pos`. */
function blockingCallAt(sf: ts.SourceFile, pos: number): BlockingCall | undefined {
  for (const node of ancestors(innermostNodeAt(sf, pos))) {
    const call = asBlockingCall(node);
    if (call) return call;
    if (isFunctionBoundary(node)) return undefined;
    if (
      ts.isExpressionStatement(node) ||
      ts.isVariableStatement(node) ||
      ts.isReturnStatement(node)
    ) {
      return firstBlockingCall(node);
    }
  }
  return undefined;
}

function firstBlockingCall(node: ts.Node): BlockingCall | undefined {
  if (isFunctionBoundary(node)) return undefined;
  return asBlockingCall(node) ?? node.forEachChild(firstBlockingCall);
}

function asBlockingCall(node: ts.Node): BlockingCall | undefined {
  if (!ts.isCallExpression(node) || !ts.isPropertyAccessExpression(node.expression))
    return undefined;
  const index = OPTIONS_INDEX.get(node.expression.name.text);
  if (index === undefined || node.arguments.length > index + 1) return undefined;
  if (node.arguments.length < index) return undefined;
  const options = node.arguments[index];
  if (options && !ts.isObjectLiteralExpression(options)) return undefined;
  return { call: node, index };
}

function timeoutEdit(
  sf: ts.SourceFile,
  call: ts.CallExpression,
  index: number,
  property: string,
): TextEdit | undefined {
  const options = call.arguments[index];
  if (!options) {
    const previous = call.arguments[index - 1];
    if (previous)
      return { start: previous.getEnd(), end: previous.getEnd(), newText: `, { ${property} }` };
    const open = call.arguments.pos;
    return { start: open, end: open, newText: `{ ${property} }` };
  }
  if (!ts.isObjectLiteralExpression(options) || hasTimeout(options)) return undefined;
  return addProperty(sf, options, property);
}

function hasTimeout(options: ts.ObjectLiteralExpression): boolean {
  return options.properties.some(
    (p) => p.name !== undefined && ts.isIdentifier(p.name) && p.name.text === 'timeout',
  );
}

/**
 * Adds a property after the last one, in the literal's own layout: on a line of its own (with
 * the last property's indentation and trailing-comma habit) when the literal spans lines.
 */
function addProperty(
  sf: ts.SourceFile,
  options: ts.ObjectLiteralExpression,
  property: string,
): TextEdit {
  const text = sf.text;
  const props = options.properties;
  const last = props[props.length - 1];
  if (!last) {
    return { start: options.getStart(sf), end: options.getEnd(), newText: `{ ${property} }` };
  }
  const multiline = text.slice(options.getStart(sf), options.getEnd()).includes('\n');
  if (!multiline) {
    const after = props.hasTrailingComma ? props.end : last.getEnd();
    const newText = props.hasTrailingComma ? ` ${property},` : `, ${property}`;
    return { start: after, end: after, newText };
  }
  const indent = indentAt(text, last.getStart(sf));
  const eol = eolOf(text);
  if (props.hasTrailingComma) {
    return { start: props.end, end: props.end, newText: `${eol}${indent}${property},` };
  }
  return { start: last.getEnd(), end: last.getEnd(), newText: `,${eol}${indent}${property}` };
}
