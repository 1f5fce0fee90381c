import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFedlearnError, ManualClock } from '@fedlearn/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ModelFiles, utf8 } from '../model-format/files.js';
import { LocalRegistry } from './local-registry.js';
import { LocalRunLog } from './local-runs.js';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'fedlearn-local-registry-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

function files(tag: string): ModelFiles {
  return new Map([['model.json', utf8(`{"tag":"${tag}"}`)]]);
}

describe('LocalRegistry', () => {
  it('numbers versions 1, 2, 3 and reads them back', async () => {
    const registry = new LocalRegistry({ home, clock: new ManualClock(Date.UTC(2026, 0, 1)) });
    const v1 = await registry.createVersion({
      name: 'mnist',
      files: files('a'),
      metrics: { accuracy: 0.5 },
      round: 1,
      jobId: 'j1',
    });
    const v2 = await registry.createVersion({
      name: 'mnist',
      files: files('b'),
      metrics: { accuracy: 0.7 },
      round: 2,
      jobId: 'j1',
    });
    expect([v1.version, v2.version]).toEqual([1, 2]);
    expect(v1.createdAt).toBe('2026-01-01T00:00:00.000Z');
    expect(v2.tags).toMatchObject({
      'metric.accuracy': '0.7',
      'fedlearn.round': '2',
      'fedlearn.job_id': 'j1',
    });
    const got = await registry.getFiles('mnist', 2);
    expect(new TextDecoder().decode(got.get('model.json'))).toBe('{"tag":"b"}');
    expect((await registry.listModels()).map((m) => [m.name, m.latestVersion])).toEqual([['mnist', 2]]);
  });

  it('gives two concurrent writers distinct consecutive version numbers', async () => {
    const a = new LocalRegistry({ home });
    const b = new LocalRegistry({ home });
    const created = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        (i % 2 ? a : b).createVersion({ name: 'race', files: files(String(i)), metrics: { i } }),
      ),
    );
    const numbers = created.map((v) => v.version).sort((x, y) => x - y);
    expect(numbers).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    const listed = await a.listVersions('race');
    expect(listed.map((v) => v.version)).toEqual(numbers);
    // every version holds exactly the files its writer sent
    for (const v of created) {
      const f = await b.getFiles('race', v.version);
      expect(new TextDecoder().decode(f.get('model.json'))).toBe(`{"tag":"${v.metrics['i']}"}`);
    }
  });

  it('moves aliases and records every move in the audit log', async () => {
    const registry = new LocalRegistry({ home });
    await registry.createVersion({ name: 'm', files: files('1'), metrics: {} });
    await registry.createVersion({ name: 'm', files: files('2'), metrics: {} });
    await registry.setAlias('m', 'champion', 1, { actor: 'alice', reason: 'first' });
    await registry.setAlias('m', 'champion', 2, { actor: 'bob', reason: 'better' });
    expect((await registry.getVersionByAlias('m', 'champion')).version).toBe(2);
    expect((await registry.getVersion('m', 2)).aliases).toEqual(['champion']);
    const log = await registry.auditLog('m');
    expect(log.map((e) => [e.alias, e.previous, e.version, e.actor, e.reason])).toEqual([
      ['champion', null, 1, 'alice', 'first'],
      ['champion', 1, 2, 'bob', 'better'],
    ]);
    await registry.deleteAlias('m', 'champion', { actor: 'carol', reason: 'retired' });
    const error = await registry.getVersionByAlias('m', 'champion').catch((e) => e);
    expect(isFedlearnError(error, 'REGISTRY_NOT_FOUND')).toBe(true);
  });

  it('rejects bad names, versions, unknown models and aliases to missing versions with typed errors', async () => {
    const registry = new LocalRegistry({ home });
    await registry.createVersion({ name: 'm', files: files('1'), metrics: {} });
    const cases = [
      registry.createVersion({ name: '../escape', files: files('x'), metrics: {} }),
      registry.getVersion('m', 0),
      registry.setAlias('m', 'latest', 1, { actor: 'a', reason: 'r' }),
    ];
    for (const error of await Promise.all(cases.map((p) => p.catch((e) => e)))) {
      expect(isFedlearnError(error, 'INVALID_ARGUMENT')).toBe(true);
    }
    expect(isFedlearnError(await registry.listVersions('nope').catch((e) => e), 'REGISTRY_NOT_FOUND')).toBe(
      true,
    );
    expect(isFedlearnError(await registry.getVersion('m', 9).catch((e) => e), 'REGISTRY_NOT_FOUND')).toBe(
      true,
    );
    const move = await registry.setAlias('m', 'champion', 7, { actor: 'a', reason: 'r' }).catch((e) => e);
    expect(isFedlearnError(move, 'REGISTRY_NOT_FOUND')).toBe(true);
  });

  it('reports a home it cannot write as a typed REGISTRY_UNAVAILABLE, keeping the cause', async () => {
    const file = join(home, 'not-a-directory');
    await writeFile(file, 'x');
    const registry = new LocalRegistry({ home: file });
    const error = await registry.createVersion({ name: 'm', files: files('1'), metrics: {} }).catch((e) => e);
    expect(isFedlearnError(error, 'REGISTRY_UNAVAILABLE')).toBe(true);
    expect(error.cause).toMatchObject({ code: expect.stringMatching(/^(ENOTDIR|EEXIST)$/) });
    const runs = new LocalRunLog(file);
    const runError = await runs
      .start(
        { jobId: 'j', modelName: 'm', strategy: 's', rounds: 1, clients: 1, secureAggregation: false },
        {},
        0,
      )
      .catch((e) => e);
    expect(isFedlearnError(runError, 'REGISTRY_UNAVAILABLE')).toBe(true);
  });

  it('detects a file changed on disk after registration', async () => {
    const registry = new LocalRegistry({ home });
    const v = await registry.createVersion({ name: 'm', files: files('1'), metrics: {} });
    await writeFile(join(v.source, 'model.json'), '{"tag":"evil"}');
    const error = await registry.getFiles('m', 1).catch((e) => e);
    expect(isFedlearnError(error, 'ARTIFACT_CHECKSUM_MISMATCH')).toBe(true);
  });
});
