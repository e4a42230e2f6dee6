/**
 * The collector's ingest with the analysis, in a process of its own, for bench/run.ts to
 * measure it on another Node (Node 24): prints `{ eventsPerSec, heapGrowthMb }` as JSON.
 */
import { measureCollectorIngest } from './collector-ingest.js';

process.stdout.write(JSON.stringify(measureCollectorIngest(1_000_000, true)) + '\n');
