import { describe, expect, it } from 'vitest';
import { BIN, run, runDemo } from './run-demo.js';

describe('fedlearn demo (real processes, embedded defaults)', () => {
  it('trains, writes the documented JSON, and registers every round with a champion', async () => {
    const { stdout, report, home, env } = await runDemo([
      '--clients',
      '2',
      '--rounds',
      '2',
      '--local-epochs',
      '1',
      '--batch-size',
      '64',
    ]);
    expect(stdout).toMatch(/│ round │ clients │ dropped │ train loss │ accuracy │/);
    expect(report.config).toMatchObject({
      clients: 2,
      rounds: 2,
      partition: 'iid',
      localEpochs: 1,
      batchSize: 64,
    });
    expect(report.rounds).toHaveLength(2);
    for (const [i, round] of report.rounds.entries()) {
      expect(round).toMatchObject({ round: i + 1, sampled: 2, completed: 2, dropped: 0 });
      for (const key of ['trainLoss', 'accuracy', 'loss', 'seconds'])
        expect(typeof round[key]).toBe('number');
      expect(round.bytesUp).toBeGreaterThan(2 * 101_770 * 4);
      expect(round.bytesDown).toBeGreaterThan(round.bytesUp);
    }
    // Two rounds of an MLP on 3,600 digits per client is already far better than chance.
    expect(report.final.accuracy).toBeGreaterThan(0.7);
    expect(report.model).toMatchObject({ name: 'mnist-mlp', version: '2', registry: 'local' });
    expect(report.baseline).toBeUndefined();

    const listed = await run(process.execPath, [BIN, 'models', 'list', '--json'], { env, cwd: home });
    const versions = JSON.parse(listed.stdout) as { version: number; aliases: string[] }[];
    expect(versions.map((v) => v.version).sort()).toEqual([1, 2]);
    expect(versions.flatMap((v) => v.aliases)).toContain('champion');
    const table = await run(process.execPath, [BIN, 'models', 'list'], { env, cwd: home });
    expect(table.stdout).toMatch(/mnist-mlp\s+2\s/);
  });

  it('refuses bad options with a message that names the flag', async () => {
    const failure = await run(process.execPath, [BIN, 'demo', '--partition', 'shards:0'], {}).catch((e) => e);
    expect(failure.code).toBe(1);
    expect(failure.stderr).toMatch(/INVALID_CONFIG: unknown partition "shards:0"/);
    const unknown = await run(process.execPath, [BIN, 'demo', '--bogus'], {}).catch((e) => e);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/bogus/);
  });
});
