/**
 * The public API of the `lockscope` package as an editor shows it: every export, and every
 * public member of an exported class or interface, has documentation for hover and completion,
 * unless it is marked `@internal` (the build strips those from the published declarations).
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import ts from 'typescript';
import { moduleExports } from '../module-exports.js';

const ENTRY = resolve(import.meta.dirname, '../../runtime-probe/src/index.ts');

function hasDoc(node: ts.Node): boolean {
  return ts.getJSDocCommentsAndTags(node).length > 0;
}

function isInternal(node: ts.Node): boolean {
  return ts.getJSDocTags(node).some((tag) => tag.tagName.text === 'internal');
}

function isHidden(member: ts.ClassElement | ts.TypeElement): boolean {
  if (member.name && ts.isPrivateIdentifier(member.name)) return true;
  const modifiers = ts.canHaveModifiers(member) ? (ts.getModifiers(member) ?? []) : [];
  return modifiers.some(
    (m) => m.kind === ts.SyntaxKind.PrivateKeyword || m.kind === ts.SyntaxKind.ProtectedKeyword,
  );
}

/** Each public declaration of the package's entry without documentation, by name. */
function undocumented(): string[] {
  const { checker, exports } = moduleExports(ENTRY);
  const missing: string[] = [];
  for (const exported of exports) {
    const symbol =
      exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    for (const declaration of symbol.declarations ?? []) {
      if (!hasDoc(declaration)) missing.push(exported.name);
      if (!ts.isClassDeclaration(declaration) && !ts.isInterfaceDeclaration(declaration)) continue;
      for (const member of declaration.members) {
        if (isHidden(member) || isInternal(member) || hasDoc(member)) continue;
        const name = member.name ? member.name.getText() : 'constructor';
        missing.push(`${exported.name}.${name}`);
      }
    }
  }
  return missing;
}

describe('the public API', () => {
  test('every export and every public member is documented', () => {
    assert.deepEqual(undocumented(), []);
  });
});
