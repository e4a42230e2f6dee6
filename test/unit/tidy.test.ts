/**
 * The tidy test, in the manner of rust-analyzer's: ARCHITECTURE.md stays true. Every source file
 * of a package is named in its part of the code map, no sentence speaks of issues or unfinished
 * work, and no source file grows past 500 lines. It fails `npm test` as soon as one goes stale.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';

const root = resolve(import.meta.dirname, '../..');

/** A package's source folder and the heading of its part of the code map. */
const PACKAGES = [
  { folder: 'runtime-probe/src', heading: '### `runtime-probe/src/`' },
  { folder: 'extension/src', heading: '### `extension/src/`' },
  { folder: 'webview/src', heading: '### `webview/src/`' },
];
/** Besides the packages' sources: the build and test scripts, held to the same size. */
const OTHER_SOURCES = ['esbuild.mjs', 'scripts', 'bench'];
const MAX_LINES = 500;
const UNFINISHED = /\bissues? #?\d+|\bin progress\b|\(next\)|\bTODO\b|\bWIP\b/i;

interface SourceFile {
  path: string;
  lines: number;
}

/** What is stale: each problem as a sentence naming the file or the line. */
export function tidyProblems(map: string, files: SourceFile[]): string[] {
  const problems: string[] = [];
  const entryPoints = section(map, '## Entry points');
  for (const { folder, heading } of PACKAGES) {
    const text = entryPoints + section(map, heading);
    for (const file of files.filter((f) => f.path.startsWith(`${folder}/`))) {
      const name = file.path.slice(file.path.lastIndexOf('/') + 1);
      if (!new RegExp(`\`(?:[^\`\\s]*/)?${escape(name)}\``).test(text)) {
        problems.push(`${file.path} is not in the code map under ${heading}`);
      }
    }
  }
  map.split('\n').forEach((line, i) => {
    if (UNFINISHED.test(line)) problems.push(`ARCHITECTURE.md:${i + 1} speaks of unfinished work`);
  });
  for (const file of files) {
    if (file.lines > MAX_LINES) problems.push(`${file.path} has ${file.lines} lines`);
  }
  return problems;
}

/** The text from `heading` to the next heading of the same or a higher level. */
function section(text: string, heading: string): string {
  const start = text.indexOf(`${heading}\n`);
  if (start < 0) return '';
  const level = heading.split(' ')[0]!;
  const rest = text.slice(start + heading.length);
  const next = rest.search(new RegExp(`\\n#{1,${level.length}} `));
  return next < 0 ? rest : rest.slice(0, next);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The source files at `path`: the file itself, or those under the folder. */
function sourcesUnder(path: string): string[] {
  const full = join(root, path);
  if (statSync(full).isFile()) return [path];
  return readdirSync(full, { recursive: true })
    .map(String)
    .filter((f) => /\.(ts|mts|mjs|cjs)$/.test(f) && !f.includes('node_modules'))
    .map((f) => `${path}/${f}`);
}

function repositorySources(): SourceFile[] {
  const paths = [...PACKAGES.map((p) => p.folder), ...OTHER_SOURCES].flatMap(sourcesUnder);
  return paths.map((path) => ({
    path,
    lines: readFileSync(join(root, path), 'utf8').split('\n').length - 1,
  }));
}

describe('tidy', () => {
  const map = readFileSync(join(root, 'ARCHITECTURE.md'), 'utf8');
  const files = repositorySources();

  test('ARCHITECTURE.md names every source file, speaks of no unfinished work, and no file is too long', () => {
    assert.ok(files.length > 100, `${files.length} source files found`);
    assert.deepEqual(tidyProblems(map, files), []);
  });

  test('a stale map, a sentence about an issue, or a long file is found', () => {
    const renamed = map.replace('`small-map.ts`', '`tiny-map.ts`');
    assert.deepEqual(tidyProblems(renamed, files), [
      'runtime-probe/src/analysis/small-map.ts is not in the code map under ### `runtime-probe/src/`',
    ]);
    const unfinished = `${map}\nThe exporters (issue 12) come next.\n`;
    assert.match(tidyProblems(unfinished, files).join('\n'), /speaks of unfinished work/);
    const long = [...files, { path: 'webview/src/render/huge.ts', lines: 501 }];
    assert.deepEqual(tidyProblems(map, long), [
      'webview/src/render/huge.ts is not in the code map under ### `webview/src/`',
      'webview/src/render/huge.ts has 501 lines',
    ]);
  });
});
