/**
 * `lockscope/analysis`: the analysis as a library. The Analyzer turns protocol messages into a
 * Report; the report types (types.ts) are its contract with every consumer (the CLI's `--json`,
 * the extension, the webview), versioned by `REPORT_VERSION`; the exporters turn a Report into
 * SARIF, a Chrome trace or text. Pure, apart from reading a trace file. A viewer that needs only
 * the contract imports `lockscope/report`, which runs in a browser too.
 */
export { Analyzer, DEFAULT_OPTIONS, type AnalysisOptions } from './engine.js';
export { analyzeTrace, readTrace, TraceError } from './trace.js';
export * from './report.js';
export { toSarif, type SarifOptions } from './sarif.js';
export { toChromeTrace } from './chrome-trace.js';
export { formatReport, DEFAULT_MAX_SITES, type TextOptions } from './text.js';
