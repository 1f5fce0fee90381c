// Checks that every publishable package ships only what a user needs: its build output,
// package.json, README and LICENSE. Run after a build.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const allowed = [
  /^bin\/[a-z-]+\.js$/,
  /^dist\/.+\.(c?js|d\.c?ts|map)$/,
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE$/,
  // serving loads the vendored Open Inference Protocol .proto files at run time (their source in README.md)
  /^proto\/[a-z0-9_]+\.proto$/,
  /^proto\/README\.md$/,
];
let failures = 0;
const rows = [];
for (const dir of readdirSync('packages')) {
  const cwd = join('packages', dir);
  const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'));
  const [report] = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd, encoding: 'utf8' }),
  );
  const paths = report.files.map((f) => f.path);
  const unexpected = paths.filter((p) => !allowed.some((re) => re.test(p)));
  const tests = paths.filter((p) => /\.test\./.test(p));
  const missing = ['package.json', 'README.md', 'LICENSE'].filter((f) => !paths.includes(f));
  const entry = pkg.bin
    ? Object.values(pkg.bin)
    : [pkg.exports?.['.']?.import?.default, pkg.exports?.['.']?.require?.default];
  const missingEntries = entry
    .filter(Boolean)
    .map((p) => p.replace(/^\.\//, ''))
    .filter((p) => !paths.includes(p));
  const problems = [
    ...unexpected.map((p) => `unexpected ${p}`),
    ...tests.map((p) => `test file ${p}`),
    ...missing.map((p) => `missing ${p}`),
    ...missingEntries.map((p) => `missing entry ${p}`),
  ];
  failures += problems.length;
  rows.push({
    package: pkg.name,
    files: paths.length,
    kB: Math.round(report.unpackedSize / 1024),
    problems: problems.join('; ') || 'ok',
  });
}
console.table(rows);
if (failures > 0) {
  console.error(`check-pack: ${failures} problem(s); fix the "files" field or the build`);
  process.exit(1);
}
