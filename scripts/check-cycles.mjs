// Lists import cycles between the .ts files of a folder (type-only imports too): node scripts/check-cycles.mjs packages/server/src
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const root = resolve(process.argv[2]);
const files = [];
const walk = (d) => {
  for (const n of readdirSync(d)) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) files.push(p);
  }
};
walk(root);
const graph = new Map();
for (const f of files) {
  const src = readFileSync(f, 'utf8');
  const deps = [...src.matchAll(/(?:import|export)[^'"]*?from\s+'(\.[^']+)'/g)].map((m) =>
    resolve(dirname(f), m[1].replace(/\.js$/, '.ts')),
  );
  graph.set(f, deps);
}
const state = new Map();
const stack = [];
let cycles = 0;
const visit = (f) => {
  state.set(f, 1);
  stack.push(f);
  for (const d of graph.get(f) ?? []) {
    if (state.get(d) === 1) {
      cycles++;
      console.log(
        'cycle:',
        stack
          .slice(stack.indexOf(d))
          .map((x) => x.slice(root.length + 1))
          .join(' -> '),
      );
    } else if (!state.get(d)) visit(d);
  }
  stack.pop();
  state.set(f, 2);
};
for (const f of files) if (!state.get(f)) visit(f);
console.log(`${files.length} files, ${cycles} cycles`);
process.exitCode = cycles === 0 ? 0 : 1;
