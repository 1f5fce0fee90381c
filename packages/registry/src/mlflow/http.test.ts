import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type FedlearnError, isFedlearnError } from '@fedlearn/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MlflowHttp } from './http.js';

let server: Server;
let port: number;
let seen: IncomingHttpHeaders[];

beforeEach(async () => {
  seen = [];
  server = createServer((req, res) => {
    seen.push(req.headers);
    res.setHeader('content-type', 'application/json');
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('MlflowHttp credentials', () => {
  it('sends credentials in the tracking URI as basic auth, like the Python client', async () => {
    const http = new MlflowHttp({ trackingUri: `http://alice:p%40ss@127.0.0.1:${port}` });
    await http.call('GET', 'registered-models/search');
    await http.close();
    expect(seen[0]?.authorization).toBe(`Basic ${Buffer.from('alice:p@ss').toString('base64')}`);
  });

  it('prefers an explicit token, and never echoes a malformed URI that may hold a secret', async () => {
    const http = new MlflowHttp({ trackingUri: `http://alice:pw@127.0.0.1:${port}`, token: 'tok' });
    await http.call('GET', 'registered-models/search');
    await http.close();
    expect(seen[0]?.authorization).toBe('Bearer tok');

    let error: unknown;
    try {
      new MlflowHttp({ trackingUri: 'http://alice:s3cret@[bad' });
    } catch (e) {
      error = e;
    }
    expect(isFedlearnError(error, 'INVALID_CONFIG')).toBe(true);
    expect(JSON.stringify({ m: (error as Error).message, c: (error as Error).cause })).not.toContain(
      's3cret',
    );
  });
});

describe('MlflowHttp timeouts', () => {
  it('gives up on a server that never answers, as REGISTRY_UNAVAILABLE after its retries', async () => {
    const silent = createServer(() => undefined); // accepts the request, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const waits: number[] = [];
    const http = new MlflowHttp({
      trackingUri: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      timeoutMs: 50,
      maxRetries: 1,
      delay: async (ms) => void waits.push(ms),
    });
    const error = await http.call('GET', 'registered-models/search').catch((e: unknown) => e);
    await http.close();
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
    expect(isFedlearnError(error, 'REGISTRY_UNAVAILABLE')).toBe(true);
    expect((error as FedlearnError).details).toMatchObject({ attempts: 2, call: 'registered-models/search' });
    expect(waits).toEqual([250]);
  });
});
