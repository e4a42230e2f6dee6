/**
 * Suppressing a finding on one line with a comment:
 *
 * ```ts
 * // lockscope-ignore lock-order-inversion: the two paths never run at once
 * using b = await y.acquire();
 * ```
 *
 * The comment names one kind or several (`deadlock, long-hold`), then optionally a colon and a
 * reason. It applies to its own line (as a trailing comment) or, written on lines of its own, to
 * the first line of code below the run of comment lines it belongs to. A comment without a kind
 * suppresses every kind. Lines are zero-based, as in VS Code.
 */
import ts from 'typescript';
import { eolOf, leadingWhitespace, lineEndOf, offsetOfLine, type TextEdit } from './edits.js';

const DIRECTIVE = /^(?:\/\/|\/\*)\s*lockscope-ignore\b([^:*]*)/;

/** The edit inserting `// lockscope-ignore <kind>: <reason>` above `line`, indented as it is. */
export function suppressFinding(
  sourceText: string,
  line: number,
  kind: string,
  reason = 'reason',
): TextEdit | undefined {
  const start = offsetOfLine(sourceText, line);
  if (start === undefined || !/^[\w-]+$/.test(kind)) return undefined;
  const indent = leadingWhitespace(sourceText, start);
  const eol = eolOf(sourceText);
  return { start, end: start, newText: `${indent}// lockscope-ignore ${kind}: ${reason}${eol}` };
}

/** True when a lockscope-ignore comment for `kind` applies to zero-based `line`. */
export function isSuppressed(sourceText: string, line: number, kind: string): boolean {
  const start = offsetOfLine(sourceText, line);
  if (start === undefined) return false;
  if (commentsOf(lineText(sourceText, start)).some((c) => covers(c, kind))) return true;
  for (let above = line - 1; above >= 0; above--) {
    const text = lineText(sourceText, offsetOfLine(sourceText, above) ?? 0).trim();
    if (!text.startsWith('//') && !text.startsWith('/*')) return false;
    if (covers(text, kind)) return true;
  }
  return false;
}

function lineText(sourceText: string, start: number): string {
  return sourceText.slice(start, lineEndOf(sourceText, start));
}

/**
 * The comments on one line, found by the TypeScript scanner so that `//` inside a string is not
 * taken for a comment.
 */
function commentsOf(line: string): string[] {
  const scanner = ts.createScanner(
    ts.ScriptTarget.Latest,
    false,
    ts.LanguageVariant.Standard,
    line,
  );
  const comments: string[] = [];
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    if (
      kind === ts.SyntaxKind.SingleLineCommentTrivia ||
      kind === ts.SyntaxKind.MultiLineCommentTrivia
    ) {
      comments.push(scanner.getTokenText());
    }
  }
  return comments;
}

/** True when a comment is a lockscope-ignore directive naming `kind`, or naming no kind. */
function covers(comment: string, kind: string): boolean {
  const match = DIRECTIVE.exec(comment);
  if (!match) return false;
  const kinds = (match[1] ?? '')
    .split(/[\s,]+/)
    .map((k) => k.trim())
    .filter((k) => k !== '');
  return kinds.length === 0 || kinds.includes(kind);
}
