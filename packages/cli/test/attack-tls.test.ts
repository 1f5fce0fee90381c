import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClientEvent, FederatedClient } from '@fedlearn/client-node';
import { isFedlearnError } from '@fedlearn/core';
import { Coordinator } from '@fedlearn/server';
import pino from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { idleTrainer } from './idle-trainer.js';

const TOKEN = 'tls-client-token-0123456789';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A throwaway self-signed certificate for 127.0.0.1, made at test time (no key is committed). */
let tls: { key: string; cert: string };
beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'fedlearn-tls-'));
  tls = { key: join(dir, 'key.pem'), cert: join(dir, 'cert.pem') };
  execFileSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    tls.key,
    '-out',
    tls.cert,
  ]);
});

async function tlsCoordinator(): Promise<Coordinator> {
  const coordinator = await Coordinator.start({
    port: 0,
    apiToken: 'tls-api-token-0123456789',
    clientToken: TOKEN,
    tls,
    checkpointDir: mkdtempSync(join(tmpdir(), 'fedlearn-tls-ckpt-')),
    logger: pino({ level: 'silent' }),
  });
  cleanups.push(() => coordinator.stop());
  return coordinator;
}

function client(serverUrl: string, ca?: string) {
  const events: ClientEvent[] = [];
  const federated = new FederatedClient({
    serverUrl,
    token: TOKEN,
    clientId: 'tls-client',
    trainer: idleTrainer,
    handleSignals: false,
    reconnect: { initialDelayMs: 10, maxDelayMs: 10 },
    ...(ca ? { ca } : {}),
    onEvent: (event) => events.push(event),
  });
  cleanups.push(() => federated.stop());
  return { federated, events };
}

describe('misuse: an https coordinator whose certificate the client does not trust', () => {
  it('stops at once with TLS_CERT_UNTRUSTED saying to pass --ca, instead of retrying forever', async () => {
    const coordinator = await tlsCoordinator();
    expect(coordinator.url).toMatch(/^https:/);
    const { federated, events } = client(coordinator.url);
    const error = await federated.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isFedlearnError(error, 'TLS_CERT_UNTRUSTED')).toBe(true);
    expect((error as Error).message).toMatch(/--ca/);
    expect((error as Error).message).toMatch(/SELF_SIGNED/);
    await expect(federated.done).rejects.toThrow(/not trusted/);
    expect(events.filter((e) => e.type === 'connect_error')).toEqual([]);
  });

  it('connects to the same coordinator once given its certificate as the CA', async () => {
    const coordinator = await tlsCoordinator();
    const { federated, events } = client(coordinator.url, readFileSync(tls.cert, 'utf8'));
    await federated.start();
    expect(events.some((e) => e.type === 'connected')).toBe(true);
  });
});
