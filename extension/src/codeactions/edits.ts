/**
 * Text edits and the source helpers every code action shares. The code actions never re-print a
 * node with the compiler API's printer, which would lose formatting and comments: they produce
 * edits at offsets of the original text, so everything they do not touch stays byte for byte.
 *
 * Nothing here imports `vscode`: these functions are pure and tested on plain Node.
 */
import ts from 'typescript';

/** Replaces the text from `start` up to (not including) `end` with `newText`. */
export interface TextEdit {
  start: number;
  end: number;
  newText: string;
}

/**
 * Applies edits made against `text`. Edits must not overlap; insertions at the same offset keep
 * their order. Throws when two edits overlap, since that is a bug in the code that made them.
 */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const sorted = edits
    .map((edit, index) => ({ edit, index }))
    .sort((a, b) => a.edit.start - b.edit.start || a.edit.end - b.edit.end || a.index - b.index);
  let out = '';
  let at = 0;
  for (const { edit } of sorted) {
    if (edit.start < at || edit.end < edit.start || edit.end > text.length) {
      throw new RangeError(`overlapping or invalid edit at ${edit.start}..${edit.end}`);
    }
    out += text.slice(at, edit.start) + edit.newText;
    at = edit.end;
  }
  return out + text.slice(at);
}

/** Parses a file for the code actions, with parent pointers set. */
export function parseSource(sourceText: string, fileName = 'file.ts'): ts.SourceFile {
  return ts.createSourceFile(
    fileName,
    sourceText,
    ts.ScriptTarget.Latest,
    true,
    scriptKind(fileName),
  );
}

function scriptKind(fileName: string): ts.ScriptKind {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.tsx')) return ts.ScriptKind.TSX;
  if (lower.endsWith('.jsx')) return ts.ScriptKind.JSX;
  if (/\.[cm]?js$/.test(lower)) return ts.ScriptKind.JS;
  return ts.ScriptKind.TS;
}

/**
 * A type checker over this one file alone, used only to resolve which declaration an identifier
 * refers to (so that a shadowing `g` in an inner scope is not taken for the guard). No library
 * and no imports are loaded, so it costs little more than binding the file.
 */
export function fileChecker(sf: ts.SourceFile): ts.TypeChecker {
  const options: ts.CompilerOptions = { noLib: true, noResolve: true, types: [], allowJs: true };
  const host: ts.CompilerHost = {
    getSourceFile: (name) => (name === sf.fileName ? sf : undefined),
    getDefaultLibFileName: () => 'lib.d.ts',
    writeFile: () => {},
    getCurrentDirectory: () => '/',
    getCanonicalFileName: (name) => name,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => '\n',
    fileExists: (name) => name === sf.fileName,
    readFile: () => undefined,
  };
  return ts.createProgram([sf.fileName], options, host).getTypeChecker();
}

/** The innermost node whose text (without leading trivia) contains `pos`, or the file itself. */
export function innermostNodeAt(sf: ts.SourceFile, pos: number): ts.Node {
  let node: ts.Node = sf;
  for (;;) {
    const child: ts.Node | undefined = node.forEachChild((c) =>
      c.getStart(sf) <= pos && pos <= c.getEnd() ? c : undefined,
    );
    if (!child) return node;
    node = child;
  }
}

/** The node and its ancestors, innermost first, as far as the source file. */
export function* ancestors(node: ts.Node): Generator<ts.Node> {
  for (let n: ts.Node | undefined = node; n; n = n.parent) yield n;
}

/** True for nodes that start a new function body, where `return` and `this` change meaning. */
export function isFunctionBoundary(node: ts.Node): boolean {
  return ts.isFunctionLike(node) || ts.isClassStaticBlockDeclaration(node);
}

/** Moves a cursor in a line's indentation to the line's first character of code. */
export function normalizeCursor(text: string, pos: number): number {
  const start = lineStartOf(text, pos);
  const indent = leadingWhitespace(text, start).length;
  return pos < start + indent ? start + indent : pos;
}

/** The offset where the line containing `pos` starts. */
export function lineStartOf(text: string, pos: number): number {
  return text.lastIndexOf('\n', pos - 1) + 1;
}

/** The offset of the end of the line containing `pos`, before its line break. */
export function lineEndOf(text: string, pos: number): number {
  const nl = text.indexOf('\n', pos);
  if (nl < 0) return text.length;
  return nl > 0 && text[nl - 1] === '\r' ? nl - 1 : nl;
}

/** The offset of the start of the next line, or the end of the text. */
export function nextLineStart(text: string, pos: number): number {
  const nl = text.indexOf('\n', pos);
  return nl < 0 ? text.length : nl + 1;
}

/** The spaces and tabs at `lineStart`. */
export function leadingWhitespace(text: string, lineStart: number): string {
  return /^[ \t]*/.exec(text.slice(lineStart, lineEndOf(text, lineStart)))?.[0] ?? '';
}

/** The indentation of the line containing `pos`. */
export function indentAt(text: string, pos: number): string {
  return leadingWhitespace(text, lineStartOf(text, pos));
}

/** The zero-based line number of `pos`. */
export function lineOf(text: string, pos: number): number {
  let line = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < pos; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** The offset where zero-based `line` starts, or undefined past the end of the text. */
export function offsetOfLine(text: string, line: number): number | undefined {
  let at = 0;
  for (let i = 0; i < line; i++) {
    const nl = text.indexOf('\n', at);
    if (nl < 0) return undefined;
    at = nl + 1;
  }
  return at;
}

/** The file's line break: CRLF when its first line ends so, LF otherwise. */
export function eolOf(text: string): string {
  const nl = text.indexOf('\n');
  return nl > 0 && text[nl - 1] === '\r' ? '\r\n' : '\n';
}

/**
 * One level of indentation in this file: a tab when indented lines start with tabs, otherwise the
 * smallest indentation in spaces among code lines (block comment continuations are skipped, as
 * their ` * ` is not indentation), and two spaces when nothing is indented.
 */
export function indentUnitOf(text: string): string {
  let smallest = 0;
  for (const line of text.split('\n')) {
    const ws = /^[ \t]*/.exec(line)?.[0] ?? '';
    const rest = line.slice(ws.length).trim();
    if (ws === '' || rest === '' || rest.startsWith('*')) continue;
    if (ws.startsWith('\t')) return '\t';
    if (smallest === 0 || ws.length < smallest) smallest = ws.length;
  }
  return ' '.repeat(smallest || 2);
}

/** True when the statement ends with a semicolon of its own. */
export function endsWithSemicolon(sf: ts.SourceFile, node: ts.Node): boolean {
  return sf.text[node.getEnd() - 1] === ';';
}

/** The tokens (comments skipped) between two offsets, with their kinds and offsets. */
export function tokensBetween(
  sf: ts.SourceFile,
  start: number,
  end: number,
): { kind: ts.SyntaxKind; start: number; end: number }[] {
  const scanner = ts.createScanner(
    ts.ScriptTarget.Latest,
    true,
    sf.languageVariant,
    sf.text,
    undefined,
    start,
    end - start,
  );
  const tokens: { kind: ts.SyntaxKind; start: number; end: number }[] = [];
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    tokens.push({ kind, start: scanner.getTokenStart(), end: scanner.getTokenEnd() });
  }
  return tokens;
}

/**
 * The [start, end) ranges of the template literal parts in the file. A line that starts inside
 * one of them is part of a string, so re-indenting it would change the program.
 */
export function templateRanges(sf: ts.SourceFile): [number, number][] {
  const ranges: [number, number][] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isNoSubstitutionTemplateLiteral(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node)
    ) {
      ranges.push([node.getStart(sf), node.getEnd()]);
    }
    node.forEachChild(visit);
  };
  visit(sf);
  return ranges;
}

function isLineBreak(c: string | undefined): boolean {
  return c === '\n' || c === '\r';
}

interface Insert {
  pos: number;
  text: string;
  /** Added by indentLines, so dropped with its line when the line disappears. */
  indentation?: boolean;
}

/**
 * Collects edits against one text, then turns them into a minimal list of non-overlapping
 * TextEdits. Several rewrites can share one builder (converting two nested acquisitions at once):
 * deletions may overlap, and re-indentation accumulates per line.
 *
 * Deleting a token or statement also removes the spaces after it, and the spaces before it when
 * nothing else follows on its line; a line left blank by deletions disappears, line break and
 * all, while a comment that shared the line stays.
 */
export class EditBuilder {
  readonly text: string;
  readonly #deleted: Uint8Array;
  readonly #collapsible = new Set<number>();
  readonly #inserts: Insert[] = [];
  readonly #shifts = new Map<number, { dedent: number; indent: string }>();
  readonly #templates: [number, number][];

  constructor(sf: ts.SourceFile) {
    this.text = sf.text;
    this.#deleted = new Uint8Array(sf.text.length);
    this.#templates = templateRanges(sf);
  }

  /** Deletes [start, end) exactly, without touching the surrounding spaces or lines. */
  deleteExact(start: number, end: number): void {
    this.#deleted.fill(1, start, end);
  }

  /** Deletes a token or statement, its spaces, and its line when nothing else is left on it. */
  deleteSpan(start: number, end: number): void {
    const text = this.text;
    // Characters deleted already count as spaces here, so that deleting `finally` and then `{`
    // from `} finally {` leaves no space behind the `}`.
    const blank = (i: number): boolean =>
      text[i] === ' ' || text[i] === '\t' || (this.#deleted[i] === 1 && !isLineBreak(text[i]));
    let e = end;
    while (e < text.length && blank(e)) e++;
    let s = start;
    if (e >= text.length || isLineBreak(text[e])) {
      while (s > 0 && blank(s - 1)) s--;
    }
    this.#deleted.fill(1, s, e);
    for (let line = lineStartOf(text, s); line <= e && line < text.length;) {
      this.#collapsible.add(line);
      const next = nextLineStart(text, line);
      if (next === line) break;
      line = next;
    }
  }

  /** Inserts text at `pos`; insertions at one offset keep the order they were made in. */
  insert(pos: number, text: string): void {
    this.#inserts.push({ pos, text });
  }

  /** Replaces [start, end) with `text`. */
  replace(start: number, end: number, text: string): void {
    this.deleteExact(start, end);
    this.insert(start, text);
  }

  /** Removes up to `n` characters of indentation from every line that starts in [from, to]. */
  dedentLines(from: number, to: number, n: number): void {
    for (const line of this.#linesStartingIn(from, to)) this.#shift(line).dedent += n;
  }

  /** Adds `unit` of indentation to every line that starts in [from, to]. */
  indentLines(from: number, to: number, unit: string): void {
    for (const line of this.#linesStartingIn(from, to)) this.#shift(line).indent += unit;
  }

  /** The edits, sorted and without overlaps. */
  build(): TextEdit[] {
    const deleted = this.#deleted.slice();
    const inserts = [...this.#inserts];
    this.#applyShifts(deleted, inserts);
    this.#collapseBlankLines(deleted, inserts);
    return this.#toEdits(deleted, inserts);
  }

  #shift(line: number): { dedent: number; indent: string } {
    let shift = this.#shifts.get(line);
    if (!shift) this.#shifts.set(line, (shift = { dedent: 0, indent: '' }));
    return shift;
  }

  /** Lines that start in [from, to], skipping those that start inside a template literal. */
  #linesStartingIn(from: number, to: number): number[] {
    const lines: number[] = [];
    let line = lineStartOf(this.text, from);
    if (line < from) line = nextLineStart(this.text, from);
    for (; line <= to && line < this.text.length; line = nextLineStart(this.text, line)) {
      if (!this.#templates.some(([s, e]) => s < line && line < e)) lines.push(line);
    }
    return lines;
  }

  /**
   * Indentation is inserted after any other insertion at the line's start, so that a line
   * inserted there (the `{` that opens a new block) keeps its own indentation.
   */
  #applyShifts(deleted: Uint8Array, inserts: Insert[]): void {
    for (const [line, { dedent, indent }] of this.#shifts) {
      const ws = leadingWhitespace(this.text, line);
      if (ws.length === lineEndOf(this.text, line) - line) continue;
      deleted.fill(1, line, line + Math.min(dedent, ws.length));
      if (indent) inserts.push({ pos: line, text: indent, indentation: true });
    }
  }

  #collapseBlankLines(deleted: Uint8Array, inserts: Insert[]): void {
    const text = this.text;
    for (const line of this.#collapsible) {
      const end = lineEndOf(text, line);
      if (inserts.some((i) => i.pos > line && i.pos <= end)) continue;
      let blank = true;
      for (let i = line; i < end && blank; i++) {
        if (!deleted[i] && text[i] !== ' ' && text[i] !== '\t') blank = false;
      }
      if (!blank) continue;
      const next = nextLineStart(text, line);
      if (next > end) deleted.fill(1, line, next);
      else if (line > 0) deleted.fill(1, text[line - 2] === '\r' ? line - 2 : line - 1, end);
      // Indentation added to a line that is gone would land on the next line.
      for (let k = inserts.length - 1; k >= 0; k--) {
        const ins = inserts[k];
        if (ins?.pos === line && ins.indentation) inserts.splice(k, 1);
      }
    }
  }

  /** Each run of deleted characters becomes one edit, with the insertions that touch it. */
  #toEdits(deleted: Uint8Array, inserts: Insert[]): TextEdit[] {
    const edits: TextEdit[] = [];
    const pending = [...inserts].map((ins, order) => ({ ...ins, order }));
    pending.sort((a, b) => a.pos - b.pos || a.order - b.order);
    let k = 0;
    for (let i = 0; i <= deleted.length; i++) {
      const runStart = i;
      while (i < deleted.length && deleted[i]) i++;
      let newText = '';
      while (k < pending.length && (pending[k]?.pos ?? Infinity) <= i) {
        newText += pending[k]?.text ?? '';
        k++;
      }
      if (i > runStart || newText !== '') {
        const start = i > runStart ? runStart : i;
        if (this.text.slice(start, i) !== newText) edits.push({ start, end: i, newText });
      }
    }
    return edits;
  }
}
