/**
 * Recognising lock acquisitions in source and classifying how their guard is used afterwards.
 * Shared by the `using` conversion, the reorder action and the static unreleased-lock check.
 */
import ts from 'typescript';
import { ancestors, isFunctionBoundary } from './edits.js';

/** Methods whose awaited result is a guard: Mutex, Semaphore, ReentrantMutex, RWLock. */
const AWAITED_ACQUIRE = new Set(['acquire', 'read', 'write']);
/** Methods that return a guard without awaiting: SharedMutex and SharedSemaphore. */
const SYNC_ACQUIRE = new Set(['acquireSync']);

export type DeclarationKeyword = 'const' | 'let' | 'var' | 'using' | 'await using';

/** A statement such as `const g = await m.acquire(options)`. */
export interface Acquisition {
  statement: ts.VariableStatement;
  name: ts.Identifier;
  /** The call that acquires: `m.acquire(options)`. */
  call: ts.CallExpression;
  /** The lock: `m` in `m.acquire()`. */
  receiver: ts.Expression;
  method: string;
  keyword: DeclarationKeyword;
}

/** The declaration keyword of a variable statement. */
export function keywordOf(list: ts.VariableDeclarationList): DeclarationKeyword {
  const flags = list.flags;
  // AwaitUsing is Const | Using, so it is tested first and as a whole.
  const awaitUsing: number = ts.NodeFlags.AwaitUsing;
  if ((flags & awaitUsing) === awaitUsing) return 'await using';
  if (flags & ts.NodeFlags.Using) return 'using';
  if (flags & ts.NodeFlags.Const) return 'const';
  if (flags & ts.NodeFlags.Let) return 'let';
  return 'var';
}

/** The acquisition call in an initializer: `await x.acquire(...)` or `x.acquireSync(...)`. */
export function acquireCallOf(init: ts.Expression | undefined): ts.CallExpression | undefined {
  if (!init) return undefined;
  const awaited = ts.isAwaitExpression(init);
  const call = awaited ? init.expression : init;
  if (!ts.isCallExpression(call) || !ts.isPropertyAccessExpression(call.expression)) {
    return undefined;
  }
  const method = call.expression.name.text;
  return (awaited ? AWAITED_ACQUIRE : SYNC_ACQUIRE).has(method) ? call : undefined;
}

/** Matches a statement declaring exactly one identifier from an acquisition. */
export function matchAcquisition(node: ts.Node): Acquisition | undefined {
  if (!ts.isVariableStatement(node) || node.modifiers?.length) return undefined;
  const [decl, ...more] = node.declarationList.declarations;
  if (!decl || more.length > 0 || !ts.isIdentifier(decl.name)) return undefined;
  const call = acquireCallOf(decl.initializer);
  if (!call || !ts.isPropertyAccessExpression(call.expression)) return undefined;
  return {
    statement: node,
    name: decl.name,
    call,
    receiver: call.expression.expression,
    method: call.expression.name.text,
    keyword: keywordOf(node.declarationList),
  };
}

/** How one reference to a guard uses it. */
export type GuardUse =
  /** `g.release();` or `await g.release();` as a statement of its own. */
  | { kind: 'release'; node: ts.Identifier; statement: ts.ExpressionStatement; awaited: boolean }
  /** A property read such as `g.held`: harmless. */
  | { kind: 'property'; node: ts.Identifier }
  /** A release inside an expression (`ok && g.release()`): it may or may not run. */
  | { kind: 'conditional-release'; node: ts.Identifier }
  /** Anything else: returned, passed, stored, reassigned; the guard escapes. */
  | { kind: 'escape'; node: ts.Identifier }
  /** A use inside a nested function, which may run at any time. */
  | { kind: 'closure'; node: ts.Identifier };

/**
 * Every use of the guard declared by `name`, in source order. The checker resolves each
 * identifier, so an inner declaration with the same name is not mistaken for the guard.
 */
export function guardUses(
  checker: ts.TypeChecker,
  name: ts.Identifier,
  scope: ts.Node,
): GuardUse[] {
  const symbol = checker.getSymbolAtLocation(name);
  if (!symbol) return [];
  const uses: GuardUse[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && node !== name && node.text === name.text) {
      if (refersTo(checker, node, symbol)) uses.push(classifyUse(node, scope));
    }
    node.forEachChild(visit);
  };
  visit(scope);
  return uses;
}

function refersTo(checker: ts.TypeChecker, id: ts.Identifier, symbol: ts.Symbol): boolean {
  const parent = id.parent;
  if (ts.isShorthandPropertyAssignment(parent)) {
    return checker.getShorthandAssignmentValueSymbol(parent) === symbol;
  }
  // An export specifier resolves to the export's own alias symbol; treat the name as a use.
  if (ts.isExportSpecifier(parent)) return true;
  // A property name (`x.g`, `{ g: 1 }`) is not a reference to a variable at all.
  if (ts.isPropertyAccessExpression(parent) && parent.name === id) return false;
  if (ts.isPropertyAssignment(parent) && parent.name === id) return false;
  return checker.getSymbolAtLocation(id) === symbol;
}

function classifyUse(id: ts.Identifier, scope: ts.Node): GuardUse {
  if (insideClosure(id, scope)) return { kind: 'closure', node: id };
  const access = id.parent;
  if (!ts.isPropertyAccessExpression(access) || access.expression !== id) {
    return { kind: 'escape', node: id };
  }
  if (access.name.text !== 'release') return { kind: 'property', node: id };
  const call = access.parent;
  if (!ts.isCallExpression(call) || call.expression !== access || call.arguments.length > 0) {
    return { kind: 'escape', node: id };
  }
  const awaited = ts.isAwaitExpression(call.parent);
  const statement = awaited ? call.parent.parent : call.parent;
  if (ts.isExpressionStatement(statement)) {
    return { kind: 'release', node: id, statement, awaited };
  }
  return { kind: 'conditional-release', node: id };
}

/** True when a function boundary lies between `node` and `scope`. */
function insideClosure(node: ts.Node, scope: ts.Node): boolean {
  for (const a of ancestors(node.parent)) {
    if (a === scope) return false;
    if (isFunctionBoundary(a)) return true;
  }
  return false;
}

/** The statements of a block-like container, or undefined for other parents. */
export function statementsOf(node: ts.Node): ts.NodeArray<ts.Statement> | undefined {
  if (ts.isBlock(node) || ts.isSourceFile(node) || ts.isModuleBlock(node)) return node.statements;
  return undefined;
}

/** True when `node` contains a call, `new`, `await`, `yield` or tagged template, outside closures. */
export function mayRunCode(node: ts.Node): boolean {
  let found = false;
  const visit = (n: ts.Node): void => {
    if (found || isFunctionBoundary(n) || ts.isClassLike(n)) return;
    if (
      ts.isCallExpression(n) ||
      ts.isNewExpression(n) ||
      ts.isAwaitExpression(n) ||
      ts.isYieldExpression(n) ||
      ts.isTaggedTemplateExpression(n)
    ) {
      found = true;
      return;
    }
    n.forEachChild(visit);
  };
  visit(node);
  return found;
}

/** The source text of an expression with all whitespace removed, for comparing lock names. */
export function compactText(sf: ts.SourceFile, node: ts.Node): string {
  return node.getText(sf).replace(/\s+/g, '');
}

/** The names that these statements declare at their own level. */
export function declaredNames(statements: readonly ts.Statement[]): string[] {
  const names: string[] = [];
  const bind = (name: ts.BindingName): void => {
    if (ts.isIdentifier(name)) names.push(name.text);
    else for (const e of name.elements) if (!ts.isOmittedExpression(e)) bind(e.name);
  };
  for (const s of statements) {
    if (ts.isVariableStatement(s)) for (const d of s.declarationList.declarations) bind(d.name);
    else if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s)) && s.name)
      names.push(s.name.text);
    else if ((ts.isEnumDeclaration(s) || ts.isModuleDeclaration(s)) && ts.isIdentifier(s.name)) {
      names.push(s.name.text);
    }
  }
  return names;
}

/** True when `node` contains an identifier spelled as one of `names` (a conservative check). */
export function mentionsAny(node: ts.Node, names: ReadonlySet<string>): boolean {
  if (ts.isIdentifier(node)) return names.has(node.text);
  return node.forEachChild((c) => mentionsAny(c, names) || undefined) ?? false;
}
