import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClientEvent, FederatedClient } from '@fedlearn/client-node';
import { Coordinator } from '@fedlearn/server';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { runEnrollCommand } from '../src/commands/enroll.js';
import type { CommandIo } from '../src/commands/io.js';
import { runServerCommand } from '../src/commands/server.js';
import { readCredential, readIdentity } from '../src/identity-files.js';
import { secretFromEnv } from '../src/options.js';
import { idleTrainer } from './idle-trainer.js';

const API_TOKEN = 'enroll-api-token-0123456789';
const CLIENT_TOKEN = 'enroll-client-token-0123456789';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function memoryIo(env: Record<string, string | undefined>): CommandIo & { out: string[] } {
  const out: string[] = [];
  return { out, stdout: (t) => void out.push(t), stderr: (t) => void out.push(t), env, cwd: tmpdir() };
}

/** Runs a client until it is welcomed (resolves 'welcome') or ends with a fatal error (its code). */
function welcomeOrRefusal(url: string, clientId: string, credential: string | undefined): Promise<string> {
  return new Promise((resolve) => {
    const client = new FederatedClient({
      serverUrl: url,
      token: CLIENT_TOKEN,
      clientId,
      trainer: idleTrainer,
      handleSignals: false,
      ...(credential ? { credential } : {}),
      onEvent: (event: ClientEvent) => {
        if (event.type === 'welcome') resolve('welcome');
      },
    });
    cleanups.push(() => client.stop());
    client.done.catch((error: { code?: string }) => resolve(error.code ?? 'no code'));
    void client.start().catch(() => undefined);
  });
}

describe('fedlearn enroll and an enrolled client', () => {
  it('enrolls, writes the key and credential privately, never prints it, and the client proves its id', async () => {
    const coordinator = await Coordinator.start({
      port: 0,
      apiToken: API_TOKEN,
      clientToken: CLIENT_TOKEN,
      clientAuth: 'enrolled',
      checkpointDir: mkdtempSync(join(tmpdir(), 'fedlearn-enroll-ckpt-')),
      logger: pino({ level: 'silent' }),
    });
    cleanups.push(() => coordinator.stop());
    const dir = join(mkdtempSync(join(tmpdir(), 'fedlearn-enroll-')), 'ids');
    const io = memoryIo({ FEDLEARN_API_TOKEN: API_TOKEN });
    expect(await runEnrollCommand(['--id', 'edge-1', '--server', coordinator.url, '--dir', dir], io)).toBe(0);

    const credential = await readCredential(dir, 'edge-1');
    expect(credential).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(io.out.join('')).not.toContain(credential);
    expect(statSync(join(dir, 'edge-1.credential')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'edge-1.key')).mode & 0o777).toBe(0o600);
    // The pinned key is the one the coordinator enrolled: the malicious mode's pin.
    const { identity } = await readIdentity(dir, 'edge-1');
    expect(coordinator.enrollments.get('edge-1')?.identityPublicKey).toBe(
      Buffer.from(identity.publicKey).toString('base64'),
    );

    expect(await welcomeOrRefusal(coordinator.url, 'edge-1', credential)).toBe('welcome');
    expect(await welcomeOrRefusal(coordinator.url, 'edge-2', credential)).toBe('UNAUTHORIZED');
    // A second enrollment of the same id is refused: a credential is issued once.
    await expect(
      runEnrollCommand(['--id', 'edge-1', '--server', coordinator.url, '--dir', dir], io),
    ).rejects.toMatchObject({ code: 'DUPLICATE_CLIENT' });
    expect(await readCredential(dir, 'edge-1')).toBe(credential);
    await expect(
      runEnrollCommand(
        ['--id', 'edge-3', '--server', coordinator.url, '--dir', dir],
        memoryIo({ FEDLEARN_API_TOKEN: 'wrong-token-0123456789' }),
      ),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(JSON.parse(await readFile(join(dir, 'pinned.json'), 'utf8'))).toHaveProperty('edge-1');
  });
});

describe('fedlearn server: TLS pairing and secrets', () => {
  it('refuses --tls-cert without --tls-key and the reverse before it serves anything', async () => {
    for (const args of [
      ['--tls-cert', 'cert.pem'],
      ['--tls-key', 'key.pem'],
    ]) {
      const io = memoryIo({ FEDLEARN_API_TOKEN: API_TOKEN, FEDLEARN_CLIENT_TOKEN: CLIENT_TOKEN });
      await expect(runServerCommand([...args, '--port', '0'], io)).rejects.toMatchObject({
        code: 'INVALID_CONFIG',
        message: expect.stringContaining('--tls-cert and --tls-key go together'),
      });
      expect(io.out.join('')).not.toContain('listening');
    }
  });

  it('reads a secret from NAME_FILE, refuses NAME and NAME_FILE together, and never echoes it', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'fedlearn-secret-')), 'token');
    writeFileSync(file, 'file-secret-0123456789\n', { mode: 0o600 });
    expect(secretFromEnv({ FEDLEARN_API_TOKEN_FILE: file }, 'FEDLEARN_API_TOKEN')).toBe(
      'file-secret-0123456789',
    );
    expect(secretFromEnv({}, 'FEDLEARN_API_TOKEN')).toBeUndefined();
    expect(() =>
      secretFromEnv(
        { FEDLEARN_API_TOKEN: 'env-secret-0123456789', FEDLEARN_API_TOKEN_FILE: file },
        'FEDLEARN_API_TOKEN',
      ),
    ).toThrow(
      expect.objectContaining({
        code: 'INVALID_CONFIG',
        message: expect.not.stringContaining('secret-0123'),
      }),
    );
    expect(() =>
      secretFromEnv({ FEDLEARN_API_TOKEN_FILE: '/nonexistent/token' }, 'FEDLEARN_API_TOKEN'),
    ).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
  });
});
