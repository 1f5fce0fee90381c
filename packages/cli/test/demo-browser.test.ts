import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from './run-demo.js';

describe('fedlearn demo --browser (real process)', () => {
  it('prints the page URL with its token, serves the page, guards its API, and stays up until Ctrl-C', async () => {
    const home = mkdtempSync(join(tmpdir(), 'fedlearn-demo-browser-'));
    const child = spawn(
      process.execPath,
      [
        BIN,
        'demo',
        '--browser',
        '--clients',
        '1',
        '--rounds',
        '1',
        '--local-epochs',
        '1',
        '--batch-size',
        '64',
      ],
      { cwd: home, env: { ...process.env, FEDLEARN_HOME: home, MLFLOW_TRACKING_URI: '' } },
    );
    let stdout = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    /** Resolves when stdout matches (checked on every chunk); rejects if the demo exits first. */
    const waitFor = (pattern: RegExp) =>
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const check = () => {
          const match = stdout.match(pattern);
          if (!match) return;
          child.stdout.off('data', check);
          resolve(match);
        };
        child.stdout.on('data', check);
        void exited.then((code) => reject(new Error(`demo exited (${code}) before ${pattern}: ${stdout}`)));
        check();
      });
    try {
      const [, url, token] = await waitFor(/browser demo: open (http:\/\/\S+\/demo\/)#token=(\S+)/);
      const page = await fetch(url!);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Join the job');
      expect((await fetch(new URL('app.js', url))).status).toBe(200);
      // The control surface needs the demo token; the client token only travels behind it.
      const noToken = await fetch(new URL('api/session', url));
      expect(noToken.status).toBe(401);
      expect(await noToken.text()).not.toContain('clientToken');
      expect(
        (await fetch(new URL('api/state', url), { headers: { authorization: 'Bearer wrong' } })).status,
      ).toBe(401);
      const session = await fetch(new URL('api/session', url), {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(session.status).toBe(200);
      expect(await session.json()).toMatchObject({ clientId: 'browser-1', slice: 1 });
      await waitFor(/stays up until Ctrl-C/);
      const state = await fetch(new URL('api/state', url), { headers: { authorization: `Bearer ${token}` } });
      expect(await state.json()).toMatchObject({ job: { status: 'completed' }, modelRound: 1 });
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 180_000);
});
