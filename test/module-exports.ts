/**
 * A module's exports as the TypeScript compiler sees them, with the checker that resolved them:
 * for the tests that hold the README and the public API to the package's real entry.
 */
import assert from 'node:assert/strict';
import ts from 'typescript';

export function moduleExports(file: string): { checker: ts.TypeChecker; exports: ts.Symbol[] } {
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  assert.ok(source, `${file} is not in the program`);
  const symbol = checker.getSymbolAtLocation(source);
  assert.ok(symbol, `${file} has no module symbol`);
  return { checker, exports: checker.getExportsOfModule(symbol) };
}
