import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ControlApi } from '../../support/control-api.js';
import { anyExit, fedlearn, start, stopAll, TSX_BIN } from '../../support/processes.js';

const HERE = resolve(import.meta.dirname, '..');
const README = readFileSync(join(HERE, 'README.md'), 'utf8');

/** The job body of the README's `curl … -d '{…}'`, so the test runs what the reader runs. */
function readmeJob(): Record<string, unknown> {
  const match = /-d '(\{.*\})'/.exec(README);
  if (!match) throw new Error('README has no curl -d job body');
  return JSON.parse(match[1]!) as Record<string, unknown>;
}

afterAll(stopAll);

describe('examples/quickstart', () => {
  it('client.ts is a client for your own model in about 20 lines', () => {
    const code = readFileSync(join(HERE, 'client.ts'), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.trim().startsWith('//'));
    expect(code.length).toBeLessThanOrEqual(25);
  });

  it('two sites train the README’s job against a running coordinator', async () => {
    const home = mkdtempSync(join(tmpdir(), 'fedlearn-quickstart-'));
    const env = {
      FEDLEARN_API_TOKEN: randomBytes(18).toString('hex'),
      FEDLEARN_CLIENT_TOKEN: randomBytes(18).toString('hex'),
      FEDLEARN_HOME: home,
      MLFLOW_TRACKING_URI: '',
    };
    const server = fedlearn(['server', '--port', '0'], { env, cwd: home });
    const [, url] = await server.waitFor(/coordinator listening on (\S+)/);
    const api = new ControlApi(url!, env.FEDLEARN_API_TOKEN);
    const sites = ['0', '1'].map((site) =>
      start(process.execPath, [TSX_BIN, join(HERE, 'client.ts')], {
        env: { ...env, SITE: site, FEDLEARN_SERVER: url },
        name: `site ${site}`,
      }),
    );
    const crashed = anyExit([server, ...sites]);
    await Promise.race([api.waitForClients(2), crashed]);
    const created = await api.request<{ id: string }>('POST', '/v1/jobs', readmeJob());
    const job = await Promise.race([api.waitForJob(created.id), crashed]);

    expect(job.status, JSON.stringify(job.error)).toBe('completed');
    expect(job.rounds.map((r) => [r.status, r.completed, r.sampled])).toEqual(
      Array.from({ length: 5 }, () => ['ok', 2, 2]),
    );
    // Above the diagonal or not is learnable: the federated model gets most held-out points right.
    expect(job.rounds.at(-1)!.accuracy).toBeGreaterThan(0.8);
    expect(job.rounds.at(-1)!.model).toMatchObject({ name: 'quickstart' });
  });
});
