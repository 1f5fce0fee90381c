import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dpOption, privacyJobSettings } from '../privacy-option.js';
import { expandGrid } from './grid.js';
import { writeReport } from './report-files.js';
import type { ExperimentResults } from './results.js';
import { linePlot, niceTicks } from './svg-plot.js';

describe('experiment grid', () => {
  it('is the cross product, without the DP settings a secure-aggregation choice rules out', () => {
    const { configs, skipped } = expandGrid({
      partitions: ['iid', 'shards:2'],
      strategies: ['fedavg', 'fedadam:eta=0.01'],
      secagg: ['off', 'on'],
      dp: ['none', 'central:noise=1.1', 'distributed:noise=1.1'],
      seeds: [1, 2],
    });
    // 2 partitions × 2 strategies × 2 seeds × (off: none, central; on: none, distributed)
    expect(configs).toHaveLength(2 * 2 * 2 * 4);
    expect(skipped).toHaveLength(2 * 2 * 2 * 2);
    expect(configs.every((c) => (c.dp.mode === 'distributed') === (c.secagg && c.dp.mode !== 'none'))).toBe(
      true,
    );
    expect(new Set(configs.map((c) => c.id)).size).toBe(configs.length);
    expect(configs[1]).toMatchObject({ strategy: { name: 'fedavg' }, dp: { mode: 'none' }, seed: 2 });
  });

  it('refuses malformed values with INVALID_CONFIG', () => {
    const grid = { partitions: ['iid'], strategies: ['fedavg'], secagg: ['off'], dp: ['none'], seeds: [1] };
    for (const bad of [
      { ...grid, secagg: ['maybe'] },
      { ...grid, dp: ['local'] },
      { ...grid, dp: ['central:noise=-1'] },
      { ...grid, strategies: ['fedmagic'] },
      { ...grid, partitions: ['zipf'] },
    ]) {
      expect(() => expandGrid(bad)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    }
  });

  it('widens the ring under distributed DP so that an update and its noise share fit', () => {
    const { privacy, secagg } = privacyJobSettings(
      dpOption('distributed:noise=3.2,clip=0.03,epsilon=8'),
      10,
      101_770,
    );
    expect(privacy).toMatchObject({ mode: 'distributed', targetEpsilon: 8, onBudgetExceeded: 'stop' });
    expect(secagg).toMatchObject({ bits: 20, maxWeight: 1 });
    // C + 8 standard deviations of one client's share, σ·C/√10 ≈ 0.03, plus the rounding term.
    expect(secagg.clip as number).toBeGreaterThan(0.03 + 8 * ((3.2 * 0.03) / Math.sqrt(10)));
    expect(privacyJobSettings(dpOption('central:noise=1'), 10, 100).secagg).toEqual({});
  });
});

describe('SVG line plot', () => {
  it('draws one polyline per series, a dashed reference, and escapes labels', () => {
    const svg = linePlot(
      [
        { label: 'fedavg <iid>', points: [1, 2, 3].map((x) => ({ x, y: 0.8 + x / 100 })) },
        {
          label: 'centralised',
          dashed: true,
          points: [
            { x: 1, y: 0.9 },
            { x: 3, y: 0.9 },
          ],
        },
      ],
      { title: 'accuracy', xLabel: 'round', yLabel: 'accuracy' },
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('<title>accuracy</title>');
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).toContain('stroke-dasharray="6 4"');
    expect(svg).toContain('fedavg &#60;iid&#62;');
    expect(svg).not.toContain('<iid>');
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  });

  it('puts ticks on round numbers', () => {
    expect(niceTicks(0.9, 0.96)).toEqual([0.9, 0.92, 0.94, 0.96]);
    expect(niceTicks(1, 20, 8)).toEqual([5, 10, 15, 20]);
  });
});

describe('report folder', () => {
  it('writes the summary table with the gap to the centralised baseline, the JSON and the plots', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedlearn-report-'));
    const [config] = expandGrid({
      partitions: ['iid'],
      strategies: ['fedavg'],
      secagg: ['off'],
      dp: ['central:noise=3.2,clip=0.03'],
      seeds: [42],
    }).configs;
    const results: ExperimentResults = {
      setup: {
        dataset: 'mnist',
        model: 'mlp',
        clients: 10,
        rounds: 2,
        localEpochs: 3,
        batchSize: 16,
        learningRate: 0.2,
        fraction: 1,
        backend: 'wasm',
      },
      baselines: { 'iid | seed 42': { accuracy: 0.95, loss: 0.2, seconds: 10, epochs: 6 } },
      runs: [
        {
          id: config!.id,
          config: config!,
          status: 'completed',
          accuracy: 0.9,
          loss: 0.3,
          epsilon: 4.5,
          delta: 1e-5,
          roundsRun: 2,
          rounds: [
            { round: 1, accuracy: 0.8, loss: 0.5, epsilon: 3.1 },
            { round: 2, accuracy: 0.9, loss: 0.3, epsilon: 4.5 },
          ],
          seconds: 12,
        },
      ],
      startedAt: 'a',
      updatedAt: 'b',
    };
    writeReport(dir, results);
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    expect(readme).toContain(
      '| iid | fedavg | off | central, σ=3.2, C=0.03 | 42 | 0.9000 | -5.00 | 4.50 (0.00001) | 2 |',
    );
    expect(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'))).toEqual(results);
    expect(readFileSync(join(dir, 'accuracy-iid.svg'), 'utf8')).toContain('centralised (seed 42) 0.9500');
    expect(readFileSync(join(dir, 'epsilon-accuracy.svg'), 'utf8').match(/<circle /g)).toHaveLength(2);
  });
});
