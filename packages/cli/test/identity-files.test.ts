import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { enrollIdentities, readIdentity } from '../src/identity-files.js';

describe('identity files (malicious-server secure aggregation)', () => {
  it('a client reads back its own key and everyone’s pinned keys', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fedlearn-ids-'));
    const pinned = await enrollIdentities(dir, ['client-0', 'client-1', 'client-2']);
    const { identity, pinned: keys } = await readIdentity(dir, 'client-1');
    expect(Buffer.from(identity.publicKey).toString('hex')).toBe(pinned['client-1']);
    expect([...(keys?.keys() ?? [])]).toEqual(['client-0', 'client-1', 'client-2']);
    expect(pinned['client-0']).not.toBe(pinned['client-1']);
  });

  it('malformed files are refused with INVALID_CONFIG', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fedlearn-ids-'));
    await enrollIdentities(dir, ['a', 'b', 'c']);
    await writeFile(join(dir, 'pinned.json'), JSON.stringify({ a: 'not hex' }));
    await expect(readIdentity(dir, 'a')).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });
});
