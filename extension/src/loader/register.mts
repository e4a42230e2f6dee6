/**
 * `node --import <extension>/dist/extension/ts-register.mjs app.ts`: lets Node run TypeScript
 * without a build step when the program's project has no `tsx`, by registering the hooks in
 * ts-hooks.mjs (module customization hooks run on a thread of their own, so they live in their
 * own file).
 */
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
