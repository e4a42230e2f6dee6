/**
 * The static unreleased-lock check: acquisitions assigned to `const` or `let` (not `using`)
 * whose guard is not released on every path out of its block. Nothing is run; a walk over the
 * statements follows if/else, switch, loops, try/catch/finally, return, throw, break and
 * continue, tracking whether the guard may still be held.
 *
 * Two strengths of finding:
 * - `not-released`: an explicit path leaves the block with the guard held (a `return`, `throw`,
 *   `break` or `continue` before the release, a release in only one branch, no release at all);
 * - `released-only-if-nothing-throws`: every explicit path releases, but a statement between the
 *   acquisition and the release may throw (it calls, awaits or constructs something) and the
 *   release is not in a `finally`.
 *
 * Guards that escape (returned, passed, stored) or are released inside a nested function are
 * skipped: their release is somebody else's business. Acquisitions directly in a `case` clause
 * are skipped too, since their scope is the whole switch.
 */
import ts from 'typescript';
import { fileChecker, lineOf, parseSource } from './edits.js';
import {
  guardUses,
  matchAcquisition,
  mayRunCode,
  statementsOf,
  type Acquisition,
} from './guards.js';
import { jumpTarget } from './jumps.js';

export type UnreleasedKind = 'not-released' | 'released-only-if-nothing-throws';

export interface UnreleasedLock {
  /** Offsets of the acquisition statement. */
  start: number;
  end: number;
  /** The guard's variable name. */
  guard: string;
  kind: UnreleasedKind;
  message: string;
}

/** Every acquisition in the file whose guard is not released on every path. */
export function findUnreleased(sourceText: string, fileName = 'file.ts'): UnreleasedLock[] {
  const sf = parseSource(sourceText, fileName);
  const acquisitions = collectAcquisitions(sf);
  if (acquisitions.length === 0) return [];
  const checker = fileChecker(sf);
  const found: UnreleasedLock[] = [];
  for (const acq of acquisitions) {
    const result = checkAcquisition(sf, checker, acq);
    if (result) found.push(result);
  }
  return found;
}

function collectAcquisitions(sf: ts.SourceFile): Acquisition[] {
  const found: Acquisition[] = [];
  const visit = (node: ts.Node): void => {
    const acq = matchAcquisition(node);
    if (acq && (acq.keyword === 'const' || acq.keyword === 'let') && statementsOf(node.parent)) {
      found.push(acq);
    }
    node.forEachChild(visit);
  };
  visit(sf);
  return found;
}

function checkAcquisition(
  sf: ts.SourceFile,
  checker: ts.TypeChecker,
  acq: Acquisition,
): UnreleasedLock | undefined {
  const block = acq.statement.parent;
  const statements = statementsOf(block);
  if (!statements) return undefined;
  const releases = new Set<ts.Statement>();
  for (const use of guardUses(checker, acq.name, block)) {
    if (use.kind === 'release') releases.add(use.statement);
    else if (use.kind !== 'property') return undefined;
  }
  const rest = statements.slice(statements.indexOf(acq.statement) + 1);
  const report = (kind: UnreleasedKind, message: string): UnreleasedLock => ({
    start: acq.statement.getStart(sf),
    end: acq.statement.getEnd(),
    guard: acq.name.text,
    kind,
    message,
  });
  const name = acq.name.text;
  if (releases.size === 0) {
    return report(
      'not-released',
      `The lock guard '${name}' is never released. Declare it with 'using' so that it is released when its block ends.`,
    );
  }
  const strict = firstLeak(new Walker(releases, false), rest, block);
  if (strict) {
    return report(
      'not-released',
      `The lock guard '${name}' is not released on every path: it is still held ${describe(sf, strict, block)}. Declare it with 'using' so that it is released on every path.`,
    );
  }
  const soft = firstLeak(new Walker(releases, true), rest, block);
  if (soft) {
    const where =
      soft === block
        ? 'the code before the release'
        : `line ${lineOf(sf.text, soft.getStart(sf)) + 1}`;
    return report(
      'released-only-if-nothing-throws',
      `The lock guard '${name}' is released only if nothing throws: if ${where} throws, the lock stays held. Release it in a 'finally' block, or declare it with 'using'.`,
    );
  }
  return undefined;
}

/**
 * The first place where control leaves the statements with the guard possibly held: the
 * statement of an exit, or the block itself when its end is reached held.
 */
function firstLeak(
  walker: Walker,
  rest: readonly ts.Statement[],
  block: ts.Node,
): ts.Node | undefined {
  const flow = walker.sequence(rest, true);
  const leaks: ts.Node[] = flow.exits.filter((e) => e.held === true).map((e) => e.node);
  if (flow.normal === true) leaks.push(block);
  leaks.sort((a, b) => leakOffset(a) - leakOffset(b));
  return leaks[0];
}

/** A block's leak is at its end; an exit's at its start. */
function leakOffset(node: ts.Node): number {
  return statementsOf(node) ? node.getEnd() : node.getStart();
}

function describe(sf: ts.SourceFile, leak: ts.Node, block: ts.Node): string {
  const line = (pos: number): number => lineOf(sf.text, pos) + 1;
  if (leak === block) {
    return ts.isSourceFile(block)
      ? 'at the end of the file'
      : `when its block ends on line ${line(block.getEnd())}`;
  }
  const what = ts.isReturnStatement(leak)
    ? 'return'
    : ts.isThrowStatement(leak)
      ? 'throw'
      : ts.isBreakStatement(leak)
        ? 'break'
        : ts.isContinueStatement(leak)
          ? 'continue'
          : 'statement';
  return `at the ${what} on line ${line(leak.getStart(sf))}`;
}

// The walk.

/** May the guard still be held here? undefined when the point cannot be reached. */
type Held = boolean | undefined;

interface Exit {
  kind: 'return' | 'throw' | 'break' | 'continue';
  /** The statement that leaves (for a throw a statement may make, the statement itself). */
  node: ts.Node;
  held: Held;
  /** For break and continue: the statement they leave. */
  target?: ts.Statement | undefined;
}

interface Flow {
  /** The state when the statement completes normally. */
  normal: Held;
  exits: Exit[];
}

function join(...states: Held[]): Held {
  let out: Held = undefined;
  for (const s of states) if (s !== undefined) out = out === true || s;
  return out;
}

const UNREACHABLE: Flow = { normal: undefined, exits: [] };

/**
 * Follows statements, tracking whether the guard may still be held. With `implicitThrows`, any
 * statement that calls, awaits or constructs something may also throw.
 */
class Walker {
  readonly #memo = new Map<ts.Node, Map<boolean, Flow>>();

  constructor(
    private readonly releases: ReadonlySet<ts.Statement>,
    private readonly implicitThrows: boolean,
  ) {}

  sequence(statements: readonly ts.Statement[], held: Held): Flow {
    const exits: Exit[] = [];
    let state = held;
    for (const s of statements) {
      if (state === undefined) break;
      const flow = this.statement(s, state);
      exits.push(...flow.exits);
      state = flow.normal;
    }
    return { normal: state, exits };
  }

  statement(s: ts.Statement, held: Held): Flow {
    if (held === undefined) return UNREACHABLE;
    let byHeld = this.#memo.get(s);
    if (!byHeld) this.#memo.set(s, (byHeld = new Map<boolean, Flow>()));
    let flow = byHeld.get(held);
    if (!flow) byHeld.set(held, (flow = this.#compute(s, held)));
    return flow;
  }

  #compute(s: ts.Statement, held: boolean): Flow {
    if (this.releases.has(s)) return { normal: false, exits: [] };
    if (ts.isBlock(s)) return this.sequence(s.statements, held);
    if (ts.isIfStatement(s)) return this.#if(s, held);
    if (ts.isReturnStatement(s)) {
      return {
        normal: undefined,
        exits: [...this.#mayThrow(s.expression, held), { kind: 'return', node: s, held }],
      };
    }
    if (ts.isThrowStatement(s))
      return { normal: undefined, exits: [{ kind: 'throw', node: s, held }] };
    if (ts.isBreakStatement(s) || ts.isContinueStatement(s)) {
      const kind = ts.isBreakStatement(s) ? 'break' : 'continue';
      return { normal: undefined, exits: [{ kind, node: s, held, target: jumpTarget(s) }] };
    }
    if (ts.isLabeledStatement(s)) return this.#consumeBreaks(s, this.statement(s.statement, held));
    if (ts.isIterationStatement(s, false)) return this.#loop(s, held);
    if (ts.isSwitchStatement(s)) return this.#switch(s, held);
    if (ts.isTryStatement(s)) return this.#try(s, held);
    if (ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s)) return { normal: held, exits: [] };
    return { normal: held, exits: this.#mayThrow(s, held) };
  }

  /** The implicit throw a statement or expression may make, when those are followed. */
  #mayThrow(node: ts.Node | undefined, held: Held): Exit[] {
    if (!this.implicitThrows || !node || held !== true || !mayRunCode(node)) return [];
    return [{ kind: 'throw', node, held }];
  }

  #if(s: ts.IfStatement, held: boolean): Flow {
    const then = this.statement(s.thenStatement, held);
    const otherwise = s.elseStatement
      ? this.statement(s.elseStatement, held)
      : { normal: held, exits: [] };
    return {
      normal: join(then.normal, otherwise.normal),
      exits: [...this.#mayThrow(s.expression, held), ...then.exits, ...otherwise.exits],
    };
  }

  /** Breaks that leave `s` end up right after it. */
  #consumeBreaks(s: ts.Statement, flow: Flow): Flow {
    const breaks = flow.exits.filter((e) => e.kind === 'break' && e.target === s);
    return {
      normal: join(flow.normal, ...breaks.map((e) => e.held)),
      exits: flow.exits.filter((e) => !breaks.includes(e)),
    };
  }

  /**
   * A loop runs its body again with the state at the end of the body or at a `continue`; the
   * state only moves from released to possibly held through that join, so two rounds suffice.
   */
  #loop(s: ts.IterationStatement, held: boolean): Flow {
    let entry: Held = held;
    let body = this.statement(s.statement, entry);
    let back = this.#backEdge(s, body);
    while (join(entry, back) !== entry) {
      entry = join(entry, back);
      body = this.statement(s.statement, entry);
      back = this.#backEdge(s, body);
    }
    const byCondition = loopsForever(s) ? undefined : ts.isDoStatement(s) ? back : entry;
    const own = (e: Exit): boolean =>
      (e.kind === 'break' || e.kind === 'continue') && e.target === s;
    const breaks = body.exits.filter((e) => e.kind === 'break' && e.target === s);
    return {
      normal: join(byCondition, ...breaks.map((e) => e.held)),
      exits: [...this.#mayThrow(loopHeader(s), held), ...body.exits.filter((e) => !own(e))],
    };
  }

  #backEdge(s: ts.IterationStatement, body: Flow): Held {
    const continues = body.exits.filter((e) => e.kind === 'continue' && e.target === s);
    return join(body.normal, ...continues.map((e) => e.held));
  }

  /** A clause is entered from the switch or by falling through from the clause before it. */
  #switch(s: ts.SwitchStatement, held: boolean): Flow {
    const exits: Exit[] = [...this.#mayThrow(s.expression, held)];
    let previous: Held = undefined;
    let hasDefault = false;
    for (const clause of s.caseBlock.clauses) {
      hasDefault ||= ts.isDefaultClause(clause);
      const flow = this.sequence(clause.statements, join(held, previous));
      exits.push(...flow.exits);
      previous = flow.normal;
    }
    const flow = this.#consumeBreaks(s, { normal: previous, exits });
    return { normal: join(flow.normal, hasDefault ? undefined : held), exits: flow.exits };
  }

  /**
   * A `catch` is entered with the state of the throws of the try block; a `finally` runs on
   * every way out, and whatever it releases is released on that way.
   */
  #try(s: ts.TryStatement, held: boolean): Flow {
    const body = this.statement(s.tryBlock, held);
    let normal = body.normal;
    let exits = body.exits;
    if (s.catchClause) {
      const thrown = exits.filter((e) => e.kind === 'throw');
      exits = exits.filter((e) => e.kind !== 'throw');
      const caught = this.statement(s.catchClause.block, join(...thrown.map((e) => e.held)));
      normal = join(normal, caught.normal);
      exits = [...exits, ...caught.exits];
    }
    const fin = s.finallyBlock;
    if (!fin) return { normal, exits };
    const after = (h: Held): Held => this.statement(fin, h).normal;
    const own = this.statement(fin, join(normal, ...exits.map((e) => e.held))).exits;
    const passed = exits
      .map((e) => ({ ...e, held: after(e.held) }))
      .filter((e) => e.held !== undefined);
    return { normal: after(normal), exits: [...passed, ...own] };
  }
}

function loopsForever(s: ts.IterationStatement): boolean {
  if (ts.isForStatement(s)) return !s.condition || s.condition.kind === ts.SyntaxKind.TrueKeyword;
  if (ts.isWhileStatement(s) || ts.isDoStatement(s))
    return s.expression.kind === ts.SyntaxKind.TrueKeyword;
  return false;
}

function loopHeader(s: ts.IterationStatement): ts.Node | undefined {
  if (ts.isForStatement(s)) return s.condition ?? s.initializer;
  if (
    ts.isForOfStatement(s) ||
    ts.isForInStatement(s) ||
    ts.isWhileStatement(s) ||
    ts.isDoStatement(s)
  ) {
    return s.expression;
  }
  return undefined;
}
