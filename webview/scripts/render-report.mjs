// Writes the standalone HTML page for a report JSON file, with the renderer from the last build:
//   npm run build && node --import tsx webview/scripts/render-report.mjs report.json out.html
// It runs html.ts from source (hence tsx), so the page can be looked at before the CLI is wired.
import { readFileSync, writeFileSync } from 'node:fs';
import { loadRenderer, renderHtml } from '../../runtime-probe/src/report/html.ts';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error(
    'usage: node --import tsx webview/scripts/render-report.mjs <report.json> <out.html>',
  );
  process.exit(2);
}
const report = JSON.parse(readFileSync(input, 'utf8'));
writeFileSync(output, renderHtml(report, loadRenderer()));
console.log(`wrote ${output}`);
