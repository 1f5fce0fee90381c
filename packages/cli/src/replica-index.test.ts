import { isFedlearnError } from '@fedlearn/core';
import { describe, expect, it } from 'vitest';
import {
  autoClientIndex,
  clientIndexOption,
  indexFromEnv,
  type ReplicaLookup,
  replicaIndexFromName,
} from './replica-index.js';

const lookup = (over: Partial<ReplicaLookup> = {}): ReplicaLookup => ({
  env: {},
  hostname: () => '3f2a9c1b7d4e',
  reverseNames: async () => [],
  ...over,
});

describe('replicaIndexFromName: each compose replica finds its own partition', () => {
  it('reads the replica number from Compose v2 and v1 container names, 0-based', () => {
    expect(replicaIndexFromName('fedlearn-client-1.fedlearn_default')).toBe(0);
    expect(replicaIndexFromName('fedlearn-client-3.fedlearn_default')).toBe(2);
    expect(replicaIndexFromName('w12_client_12')).toBe(11);
    expect(replicaIndexFromName('stack-trainer-2', 'trainer')).toBe(1);
  });

  it('finds no index in other services, container ids or a replica 0', () => {
    expect(replicaIndexFromName('fedlearn-coordinator-1.fedlearn_default')).toBeUndefined();
    expect(replicaIndexFromName('3f2a9c1b7d4e')).toBeUndefined();
    expect(replicaIndexFromName('fedlearn-client-0')).toBeUndefined();
    expect(replicaIndexFromName('fedlearn-client-2-extra')).toBeUndefined();
  });

  it('lets FEDLEARN_CLIENT_INDEX override, and refuses a malformed one without echoing it', () => {
    expect(indexFromEnv('4')).toBe(4);
    expect(indexFromEnv(undefined)).toBeUndefined();
    expect(indexFromEnv(' ')).toBeUndefined();
    expect(() => indexFromEnv('-1')).toThrow(/non-negative integer/);
    try {
      indexFromEnv('2; rm -rf /');
      expect.unreachable();
    } catch (error) {
      expect(isFedlearnError(error, 'INVALID_CONFIG')).toBe(true);
      expect((error as Error).message).not.toContain('rm -rf');
    }
  });
});

describe('--index auto', () => {
  it('prefers FEDLEARN_CLIENT_INDEX, then the host name, then reverse DNS', async () => {
    const reverseNames = async () => ['fedlearn-client-3.fedlearn_default'];
    expect(await autoClientIndex(lookup({ env: { FEDLEARN_CLIENT_INDEX: '1' }, reverseNames }))).toEqual({
      index: 1,
      source: 'FEDLEARN_CLIENT_INDEX',
    });
    expect(await autoClientIndex(lookup({ hostname: () => 'proj_client_2', reverseNames }))).toEqual({
      index: 1,
      source: 'host name proj_client_2',
    });
    expect(await autoClientIndex(lookup({ reverseNames }))).toEqual({
      index: 2,
      source: 'container name fedlearn-client-3.fedlearn_default',
    });
  });

  it('reads another service name from FEDLEARN_CLIENT_SERVICE', async () => {
    const reverseNames = async () => ['fedlearn-client-1.x', 'fedlearn-edge-5.x'];
    const found = await autoClientIndex(lookup({ env: { FEDLEARN_CLIENT_SERVICE: 'edge' }, reverseNames }));
    expect(found.index).toBe(4);
  });

  it('fails with INVALID_CONFIG when no name says which replica this is', async () => {
    await expect(autoClientIndex(lookup())).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      message: expect.stringMatching(/FEDLEARN_CLIENT_INDEX/),
    });
  });

  it('refuses a replica past the partition count, and a numeric index out of range', async () => {
    const fourth = lookup({ reverseNames: async () => ['fedlearn-client-4.net'] });
    await expect(clientIndexOption('auto', 3, fourth)).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      message: expect.stringMatching(/replica index 3 .* --clients is 3/),
    });
    expect(await clientIndexOption('auto', 4, fourth)).toMatchObject({ index: 3 });
    expect(await clientIndexOption('2', 3, lookup())).toEqual({ index: 2, source: '--index' });
    await expect(clientIndexOption('3', 3, lookup())).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(clientIndexOption('1.5', 3, lookup())).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(clientIndexOption(undefined, 3, lookup())).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });
});
