import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CoordinatorStore, EmbeddedCoordinatorStore } from '../../src/store/index.js';
import { describeStoreContract, fakeClock, result } from './contract.js';

function embeddedHarness(compactEvery: number) {
  const dir = mkdtempSync(join(tmpdir(), 'fedlearn-store-'));
  let current: CoordinatorStore | undefined;
  const open = async (now: () => Date) => {
    await current?.close();
    current = await EmbeddedCoordinatorStore.open({ dir, now, compactEvery });
    return current;
  };
  return {
    dir,
    open,
    reopen: open,
    peer: async (store: CoordinatorStore) => store,
    async corruptRound(jobId: string, round: number) {
      await current?.close();
      current = undefined;
      // Flip one byte inside the record that completed the round, wherever it now lives.
      for (const name of readdirSync(dir).filter((n) => n === 'snapshot' || n.endsWith('.log'))) {
        const bytes = readFileSync(join(dir, name));
        const at = bytes.indexOf(`"jobId":"${jobId}","round":${round}`);
        if (at < 0) continue;
        bytes.writeUInt8(bytes.readUInt8(at + 2) ^ 0x20, at + 2);
        writeFileSync(join(dir, name), bytes);
        return;
      }
      throw new Error('round record not found on disk');
    },
    async cleanup() {
      await current?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeStoreContract('embedded, log only', () => embeddedHarness(1_000_000));
describeStoreContract('embedded, compacting every 2 records', () => embeddedHarness(2));

describe('EmbeddedCoordinatorStore files', () => {
  it('ignores a torn tail (a crash mid-append), cuts it off, and appends after it', async () => {
    const harness = embeddedHarness(1_000_000);
    const store = await harness.open(fakeClock());
    await store.createJob({ id: 'job-1', spec: {} });
    await store.completeRound('job-1', 1, result(1));
    await store.close();
    const log = join(harness.dir, 'wal-0.log');
    const whole = readFileSync(log).length;
    // Half of a record: its header promises more bytes than reached the disk.
    const header = Buffer.alloc(8);
    header.writeUInt32LE(500, 0);
    writeFileSync(log, Buffer.concat([readFileSync(log), header, Buffer.from('{"t":"completeRound"')]));
    const again = await harness.reopen(fakeClock());
    expect(readFileSync(log).length).toBe(whole);
    expect((await again.getJob('job-1'))?.lastCompletedRound).toBe(1);
    await again.completeRound('job-1', 2, result(2));
    const third = await harness.reopen(fakeClock());
    expect((await third.listRounds('job-1')).map((r) => r.round)).toEqual([1, 2]);
    await harness.cleanup();
  });

  it('refuses a damaged snapshot and a second process-local opener', async () => {
    const harness = embeddedHarness(1);
    const store = await harness.open(fakeClock());
    await store.createJob({ id: 'job-1', spec: {} });
    await expect(EmbeddedCoordinatorStore.open({ dir: harness.dir })).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
    });
    await store.close();
    const snapshot = join(harness.dir, 'snapshot');
    const bytes = readFileSync(snapshot);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 3) ^ 0x01, bytes.length - 3);
    writeFileSync(snapshot, bytes);
    await expect(EmbeddedCoordinatorStore.open({ dir: harness.dir })).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
    });
    await harness.cleanup();
  });
});
