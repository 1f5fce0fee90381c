// Reports the size of the browser SDK bundle (dist/index.js), raw and gzipped, tfjs excluded (a
// peer the page loads itself), and fails above the budget. Run after a build: npm run size:browser.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET_BYTES = 150 * 1024;
const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'index.js');
const code = readFileSync(file);
const gzipped = gzipSync(code, { level: 9 }).length;
const text = code.toString('utf8');
// tfjs must stay outside: imported by name, never inlined (its kernel registry would show up).
const tfjsImports = [...new Set(text.match(/from\s*"@tensorflow\/[^"]+"/g) ?? [])];
const tfjsInlined = /registerKernel|ENGINE\.runKernel/.test(text);
const report = {
  file: 'packages/client-browser/dist/index.js',
  rawBytes: code.length,
  gzipBytes: gzipped,
  gzipKiB: Number((gzipped / 1024).toFixed(1)),
  budgetKiB: BUDGET_BYTES / 1024,
  tfjsExternal: !tfjsInlined,
  tfjsImports,
};
console.log(JSON.stringify(report));
console.table([
  {
    bundle: report.file,
    'raw KiB': (code.length / 1024).toFixed(1),
    'gzip KiB': report.gzipKiB,
    'budget KiB': report.budgetKiB,
  },
]);
if (tfjsInlined) {
  console.error('tfjs is inlined in the bundle: keep it external (a peer dependency)');
  process.exit(1);
}
if (gzipped > BUDGET_BYTES) {
  console.error(`bundle is ${report.gzipKiB} KiB gzipped, over the ${report.budgetKiB} KiB budget`);
  process.exit(1);
}
