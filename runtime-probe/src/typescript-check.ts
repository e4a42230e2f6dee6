// Imported by a TypeScript worker's bootstrap (shared/typescript-worker.ts) to learn whether the
// worker can load TypeScript by itself. It must stay a TypeScript file that does nothing.
export {};
