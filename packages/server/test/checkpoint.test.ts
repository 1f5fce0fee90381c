import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import * as fsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { float32ToBytes, type LayersModelArtifacts, WEIGHTS_FILE_NAME } from '@fedlearn/core';
import { describe, expect, it } from 'vitest';
import { type CheckpointFs, CheckpointWriter } from '../src/checkpoint.js';

function artifacts(value: number): LayersModelArtifacts {
  return {
    modelTopology: { class_name: 'Sequential', config: {} },
    weightSpecs: [{ name: 'w', shape: [2], dtype: 'float32' }],
    weightData: float32ToBytes(Float32Array.of(value, value)),
  };
}

/** The first weight of the model a reader of `latest/` would load now. */
function latestWeight(jobDir: string): number {
  const bin = readFileSync(join(jobDir, 'latest', WEIGHTS_FILE_NAME));
  JSON.parse(readFileSync(join(jobDir, 'latest', 'model.json'), 'utf8'));
  return new Float32Array(bin.buffer, bin.byteOffset, 2)[0]!;
}

/** File operations that call `after` once each one has finished. */
function observed(after: (operation: string) => void): CheckpointFs {
  const wrap =
    <A extends unknown[], R>(name: string, op: (...args: A) => Promise<R>) =>
    async (...args: A) => {
      const result = await op(...args);
      after(name);
      return result;
    };
  return {
    lstat: wrap('lstat', fsPromises.lstat),
    mkdir: wrap('mkdir', fsPromises.mkdir),
    rename: wrap('rename', fsPromises.rename),
    rm: wrap('rm', fsPromises.rm),
    symlink: wrap('symlink', fsPromises.symlink),
    writeFile: wrap('writeFile', fsPromises.writeFile),
  } as CheckpointFs;
}

describe('CheckpointWriter', () => {
  it('writes each round as a tfjs folder and points latest at the newest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedlearn-ckpt-'));
    const writer = new CheckpointWriter(dir);
    const first = await writer.save('job', 1, artifacts(1));
    const second = await writer.save('job', 2, artifacts(2));
    expect(first).toBe(join(dir, 'job', 'round-0001'));
    expect(second).toBe(join(dir, 'job', 'round-0002'));
    expect(JSON.parse(readFileSync(join(first, 'model.json'), 'utf8')).format).toBe('layers-model');
    expect(lstatSync(join(dir, 'job', 'latest')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, 'job', 'latest'))).toBe('round-0002');
    expect(latestWeight(join(dir, 'job'))).toBe(2);
  });

  it('never leaves a reader of latest/ without a model while it moves to the next round', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedlearn-ckpt-'));
    const jobDir = join(dir, 'job');
    await new CheckpointWriter(dir).save('job', 1, artifacts(1));
    // A reader looks after every single file operation of the next saves.
    const seen: number[] = [];
    const writer = new CheckpointWriter(
      dir,
      observed((operation) => {
        expect(existsSync(join(jobDir, 'latest', 'model.json')), `after ${operation}`).toBe(true);
        seen.push(latestWeight(jobDir));
      }),
    );
    await writer.save('job', 2, artifacts(2));
    await writer.save('job', 3, artifacts(3));
    expect(seen.length).toBeGreaterThan(10);
    // Only whole models, in order: the old one until the swap, then the new one.
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen)).toEqual(new Set([1, 2, 3]));
    expect(latestWeight(jobDir)).toBe(3);
  });

  it('replaces a latest/ folder left by an older version', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedlearn-ckpt-'));
    mkdirSync(join(dir, 'job', 'latest'), { recursive: true });
    writeFileSync(join(dir, 'job', 'latest', 'model.json'), '{}');
    await new CheckpointWriter(dir).save('job', 4, artifacts(4));
    expect(readlinkSync(join(dir, 'job', 'latest'))).toBe('round-0004');
    expect(latestWeight(join(dir, 'job'))).toBe(4);
  });
});
