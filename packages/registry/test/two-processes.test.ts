import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LocalRegistry } from '../src/local/local-registry.js';

const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fedlearn-two-writers-'));
  // Bundle the current source for plain `node` child processes (Node 20 cannot run .ts).
  await build({
    entryPoints: [fileURLToPath(new URL('../src/local/local-registry.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: join(dir, 'local-registry.cjs'),
    logLevel: 'silent',
  });
  await writeFile(
    join(dir, 'writer.mjs'),
    `import { createRequire } from 'node:module';
const { LocalRegistry } = createRequire(import.meta.url)('./local-registry.cjs');
const [home, who, count] = process.argv.slice(2);
const registry = new LocalRegistry({ home });
const made = [];
for (let i = 0; i < Number(count); i++) {
  const files = new Map([['model.json', new TextEncoder().encode(JSON.stringify({ who, i }))]]);
  made.push((await registry.createVersion({ name: 'shared', files, metrics: {}, tags: { who } })).version);
}
process.stdout.write(JSON.stringify(made));
`,
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('two writer processes on one home get distinct consecutive version numbers', async () => {
  const home = join(dir, 'home');
  const writers = ['a', 'b'].map((who) =>
    run(process.execPath, [join(dir, 'writer.mjs'), home, who, '10'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    }),
  );
  const [a, b] = (await Promise.all(writers)).map((r) => JSON.parse(r.stdout) as number[]);
  expect([...a!, ...b!].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  const registry = new LocalRegistry({ home });
  const versions = await registry.listVersions('shared');
  expect(versions.map((v) => v.version)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  for (const v of versions) {
    const body = JSON.parse(
      new TextDecoder().decode((await registry.getFiles('shared', v.version)).get('model.json')),
    );
    expect(body.who).toBe(v.tags['who']);
  }
});
