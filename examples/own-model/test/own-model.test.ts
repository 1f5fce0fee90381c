import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { anyExit, fedlearn, ROOT, type Started, start, stopAll, TSX_BIN } from '../../support/processes.js';

const HERE = resolve(import.meta.dirname, '..');
const README = readFileSync(join(HERE, 'README.md'), 'utf8');

/** The README's commands, as argument lists (ports set to 0: free ones, so tests cannot collide). */
function readmeCommands() {
  const lines = README.split('\n').map((l) => l.trim());
  const args = (line: string) =>
    line
      .split(/\s+/)
      .map((a) => a.replace(/^(8700|8800|50051)$/, '0'))
      .slice(2);
  const server = lines.find((l) => l.startsWith('npx fedlearn server'))!;
  const serve = lines.find((l) => l.startsWith('npx fedlearn serve '))!;
  const sites = lines.filter((l) => /^SITE=\w+ npx tsx /.test(l));
  const body = /-d '(\{.*\})'/.exec(README)![1]!;
  return {
    server: args(server),
    serve: args(serve),
    sites: sites.map((l) => ({
      site: /^SITE=(\w+)/.exec(l)![1]!,
      script: resolve(ROOT, l.split(/\s+/).at(-1)!),
    })),
    body: JSON.parse(body) as { instance: number[] },
  };
}

afterAll(stopAll);

describe('examples/own-model', () => {
  it('trains the CSV at three sites, registers every round, and serves the champion', async () => {
    const commands = readmeCommands();
    expect(commands.sites.map((s) => s.site)).toEqual(['a', 'b', 'c']);
    const home = mkdtempSync(join(tmpdir(), 'fedlearn-own-model-'));
    const env = {
      FEDLEARN_API_TOKEN: randomBytes(18).toString('hex'),
      FEDLEARN_CLIENT_TOKEN: randomBytes(18).toString('hex'),
      FEDLEARN_HOME: home,
      MLFLOW_TRACKING_URI: '',
    };
    const server = fedlearn(commands.server, { env, cwd: home });
    const [, url] = await server.waitFor(/coordinator listening on (\S+)/);
    const serving = fedlearn(commands.serve, { env, cwd: home });
    // Serving starts before any model exists and waits for it, saying so.
    await serving.waitFor(/waiting for sensors@champion/);
    const sites: Started[] = commands.sites.map(({ site, script }) =>
      start(process.execPath, [TSX_BIN, script], {
        env: { ...env, SITE: site, FEDLEARN_SERVER: url },
        name: site,
      }),
    );
    // `fedlearn server --rounds` (no --keep-running) prints its round table and exits 0 when done;
    // the sites are only needed until then.
    await Promise.race([server.waitFor(/job sensors-\S+ \w+/), anyExit([serving, ...sites])]);
    expect(await server.exited, server.output()).toBe(0);
    const crashed = anyExit([serving]);
    expect(server.output()).toMatch(/job sensors-\S+ completed/);
    const rows = server.output().match(/│\s+\d+\s+│\s+3\/3\s+│\s+0\s+│/g) ?? [];
    expect(rows).toHaveLength(4);

    const [, restUrl] = await Promise.race([serving.waitFor(/REST\s+(http:\/\/\S+?)\/v2\//), crashed]);
    const response = await fetch(`${restUrl}/v1/models/sensors/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(commands.body),
    });
    const prediction = (await response.json()) as { model: string; version: string; probabilities: number[] };
    expect(response.status, JSON.stringify(prediction)).toBe(200);
    expect(prediction.model).toBe('sensors');
    expect(Number(prediction.version)).toBeGreaterThanOrEqual(1);
    expect(prediction.probabilities).toHaveLength(3);
    // The README's reading is a clear fault: the federated model says so.
    expect(prediction.probabilities.indexOf(Math.max(...prediction.probabilities))).toBe(2);

    const list = fedlearn(['models', 'list', 'sensors'], { env, cwd: home });
    expect(await list.exited).toBe(0);
    expect(list.output().match(/^sensors\s+\d+/gm)).toHaveLength(4);
  });
});
