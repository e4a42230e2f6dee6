// Screenshots an HTML report in headless Chromium, to look at the renderer without a desktop:
//   node webview/scripts/screenshot-report.mjs report.html out.png [--light] [--width=1280]
// It uses the `chromium` on PATH (Debian's package), through playwright-core, which downloads no
// browser of its own. Console errors and uncaught exceptions of the page are printed, and make the
// exit status 1, so a broken renderer does not pass for a blank picture.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const [input, output] = args.filter((a) => !a.startsWith('--'));
if (!input || !output) {
  console.error(
    'usage: node webview/scripts/screenshot-report.mjs <in.html> <out.png> [--light] [--width=N]',
  );
  process.exit(2);
}
const width = Number(args.find((a) => a.startsWith('--width='))?.slice(8) ?? 1280);
const colorScheme = args.includes('--light') ? 'light' : 'dark';

function findChromium() {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim();
    } catch {
      // Not installed under this name; try the next.
    }
  }
  throw new Error('no chromium on PATH (on Debian: apt-get install -y chromium)');
}

const browser = await chromium.launch({ executablePath: findChromium(), headless: true });
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width, height: 900 }, colorScheme });
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning')
      problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  await page.goto(pathToFileURL(resolve(input)).href, { waitUntil: 'load' });
  await page.screenshot({ path: output, fullPage: true });
} finally {
  await browser.close();
}
for (const p of problems) console.error(p);
console.log(
  `wrote ${output}${problems.length ? ` (${problems.length} problems)` : ', no console errors'}`,
);
process.exit(problems.length ? 1 : 0);
