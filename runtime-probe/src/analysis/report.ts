/**
 * `lockscope/report`: the Report contract (types.ts) and the words that describe its certainty,
 * without the analysis itself: what a viewer of reports needs, in a browser as well as in Node.
 */
export * from './types.js';
export { certaintyWords, processWords } from './wording.js';
