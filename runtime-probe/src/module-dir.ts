import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder of the running bundle: dist/ in the built package (where register.mjs and the HTML
 * renderer sit beside the CLI), src/ when run from source. In a CommonJS bundle `__dirname` is
 * defined and `import.meta` is empty; in an ES module it is the reverse.
 */
export function moduleDir(): string {
  return typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
}
