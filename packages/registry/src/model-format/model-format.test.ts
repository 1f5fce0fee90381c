import { isFedlearnError } from '@fedlearn/core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { job, partitions, tinyArtifacts } from '../../test/fixtures.js';
import { fromUtf8, utf8 } from './files.js';
import { parseMLmodel } from './mlmodel.js';
import { packModelFolder, unpackModelFolder } from './model-folder.js';

const pack = (overrides: Partial<Parameters<typeof packModelFolder>[0]> = {}) =>
  packModelFolder({
    artifacts: tinyArtifacts(),
    job: job(),
    metadata: {
      round: 3,
      metrics: { accuracy: 0.9, loss: 0.2 },
      dataPartitions: partitions,
      limits: ['Trained on synthetic data.'],
    },
    history: [
      { round: 1, metrics: { accuracy: 0.5, loss: 0.9 } },
      { round: 2, metrics: { accuracy: 0.8 } },
    ],
    runId: 'r1',
    createdAt: '2026-01-01T00:00:00.000Z',
    modelUuid: 'uuid-1',
    ...overrides,
  });

describe('model version folder', () => {
  it('holds model.json, the weights, an MLmodel with the tfjs flavor, and a model card', () => {
    const { files } = pack();
    expect([...files.keys()].sort()).toEqual(['MLmodel', 'README.md', 'group1-shard1of1.bin', 'model.json']);
    const mlmodel = parseMLmodel(fromUtf8(files.get('MLmodel')!));
    expect(mlmodel.tfjs).toMatchObject({
      format: 'layers-model',
      tfjsVersion: '4.22.0',
      modelFile: 'model.json',
    });
    expect(mlmodel.signature).toEqual({
      inputs: [{ name: 'dense_input', dtype: 'float32', shape: [-1, 4] }],
      outputs: [{ name: 'dense', dtype: 'float32', shape: [-1, 2] }],
    });
    expect(mlmodel.fedlearn).toMatchObject({
      jobId: 'job-1',
      round: 3,
      strategy: 'fedavg',
      secureAggregation: true,
      differentialPrivacy: 'none',
      codeVersion: 'abc123',
      jobConfig: { rounds: 3, strategy: 'fedavg', sampling: { fraction: 1 } },
      dataPartitions: { clients: 2, totalExamples: 200, fingerprints: partitions },
    });
    const text = fromUtf8(files.get('MLmodel')!);
    expect(text).toContain('tfjs:');
    expect(text).not.toMatch(/stage/i);
    const card = fromUtf8(files.get('README.md')!);
    expect(card).toContain('# tiny — round 3');
    expect(card).toContain('| round | accuracy | loss |');
    expect(card).toContain('| 1 | 0.5 | 0.9 |');
    expect(card).toContain('| 2 | 0.8 |  |');
    expect(card).toContain('secure aggregation: on');
    expect(card).toContain('Trained on synthetic data.');
  });

  it('unpacks to the same tfjs artifacts', () => {
    const { files } = pack();
    const { artifacts } = unpackModelFolder(files);
    expect(artifacts.weightSpecs).toEqual(tinyArtifacts().weightSpecs);
    expect(artifacts.weightData).toEqual(tinyArtifacts().weightData);
  });

  it('rejects a malformed MLmodel, missing files and inconsistent weights as MODEL_FORMAT_INVALID', () => {
    const { files } = pack();
    const cases = [
      new Map(files).set('MLmodel', utf8('flavors: [not, a, map')),
      new Map(files).set(
        'MLmodel',
        utf8(fromUtf8(files.get('MLmodel')!).replace('layers-model', 'graph-model')),
      ),
      new Map(files).set(
        'MLmodel',
        utf8(fromUtf8(files.get('MLmodel')!).replace(/inputs: .*/, 'inputs: \'[{"type":"tensor"}]\'')),
      ),
      new Map([...files].filter(([k]) => k !== 'group1-shard1of1.bin')),
      new Map(files).set('group1-shard1of1.bin', new Uint8Array(8)),
      new Map(files).set('model.json', utf8('{')),
      new Map(files).set(
        'model.json',
        utf8(fromUtf8(files.get('model.json')!).replaceAll('"dtype":"float32"', '"dtype":"int8"')),
      ),
    ];
    for (const broken of cases) {
      let error: unknown;
      try {
        unpackModelFolder(broken);
      } catch (e) {
        error = e;
      }
      expect(isFedlearnError(error, 'MODEL_FORMAT_INVALID')).toBe(true);
    }
  });

  it('validates lineage at the edge: a fingerprint is a sha256 and a size, never data', () => {
    const bad = [{ clientId: 'c1', sha256: 'not-a-hash', examples: 3 }];
    expect(() => pack({ metadata: { round: 1, metrics: {}, dataPartitions: bad } })).toThrow(/sha256/);
    expect(() => pack({ metadata: { round: -1, metrics: {} } })).toThrow(/round/);
    expect(() => pack({ metadata: { round: 1, metrics: { accuracy: Number.NaN } } })).toThrow(/finite/);
    expect(() =>
      pack({ metadata: { round: 1, metrics: { loss: 1 }, metricSources: { accuracy: 'server-test-set' } } }),
    ).toThrow(/unknown metric accuracy/);
    const badSet = { loss: 'my-laptop' } as unknown as Record<string, 'server-test-set'>;
    expect(() => pack({ metadata: { round: 1, metrics: { loss: 1 }, metricSources: badSet } })).toThrow(
      /metric sources/,
    );
  });

  it('records the tfjs version that built the model, from the topology a tfjs client sends', () => {
    const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 2, inputShape: [4] })] });
    // What the coordinator receives: the client's `model.toJSON(null, false)`, with no generatedBy.
    const topology = model.toJSON(null, false) as unknown as Record<string, unknown>;
    const { generatedBy: _, ...withoutGeneratedBy } = tinyArtifacts();
    const { mlmodel, files } = pack({ artifacts: { ...withoutGeneratedBy, modelTopology: topology } });
    expect(mlmodel.tfjs.tfjsVersion).toBe(tfl.version_layers);
    expect(fromUtf8(files.get('MLmodel')!)).toContain(`tfjs_version: ${tfl.version_layers}`);
    expect(fromUtf8(files.get('README.md')!)).toContain(`(tfjs ${tfl.version_layers})`);
    model.dispose();
  });

  it('says which data each metric was measured on, in the MLmodel and the card', () => {
    const { files } = pack({
      metadata: {
        round: 2,
        metrics: { accuracy: 0.93, loss: 0.25, federated_loss: 0.3 },
        metricSources: {
          accuracy: 'server-test-set',
          loss: 'server-test-set',
          federated_loss: 'clients-held-out',
        },
      },
    });
    const mlmodel = parseMLmodel(fromUtf8(files.get('MLmodel')!));
    expect(mlmodel.fedlearn.metricSources).toEqual({
      accuracy: 'server-test-set',
      loss: 'server-test-set',
      federated_loss: 'clients-held-out',
    });
    const card = fromUtf8(files.get('README.md')!);
    expect(card).toContain('- accuracy: 0.93 (on the coordinator’s server-side test set)');
    expect(card).toContain(
      '- federated_loss: 0.3 (on the clients’ held-out data: federated evaluation, as the clients reported it)',
    );
    expect(card).toContain(
      'Per round, as for this version: `accuracy` on the coordinator’s server-side test set',
    );
    expect(card).not.toContain('source not recorded');
    // A version evaluated only on the server's test set does not claim clients' held-out data.
    const serverOnly = fromUtf8(
      pack({
        metadata: { round: 1, metrics: { accuracy: 0.9 }, metricSources: { accuracy: 'server-test-set' } },
      }).files.get('README.md')!,
    );
    expect(serverOnly).not.toContain('held-out');
    // Without sources the card says it does not know, rather than guessing.
    expect(fromUtf8(pack().files.get('README.md')!)).toContain('- accuracy: 0.9 (source not recorded)');
  });

  it('states plainly when a job had no differential privacy, with no privacy field', () => {
    const { files } = pack();
    const text = fromUtf8(files.get('MLmodel')!);
    expect(text).toContain('differential_privacy: none');
    expect(text).not.toMatch(/^\s*privacy:/m);
    expect(fromUtf8(files.get('README.md')!)).toContain(
      '- differential privacy: none (no privacy guarantee: the training was not differentially private)',
    );
  });

  it('records a private version’s (ε, δ) and DP-FedAvg settings in the MLmodel and the card, and reads them back', () => {
    const privacy = {
      mode: 'distributed' as const,
      epsilon: 7.6831,
      delta: 1e-5,
      noiseMultiplier: 3.2,
      clipNorm: 0.03,
      samplingRate: 1,
      rounds: 20,
    };
    const { files } = pack({
      metadata: { round: 20, metrics: { accuracy: 0.5 }, dataPartitions: partitions, privacy },
    });
    const text = fromUtf8(files.get('MLmodel')!);
    expect(text).toMatch(/differential_privacy:\n\s+mode: distributed\n\s+epsilon: 7.6831/);
    expect(text).toContain('accountant: RDP of the sampled Gaussian mechanism');
    expect(unpackModelFolder(files).mlmodel.fedlearn.differentialPrivacy).toEqual(privacy);
    const card = fromUtf8(files.get('README.md')!);
    expect(card).toContain('- differential privacy: client-level DP-FedAvg, distributed');
    expect(card).toContain(
      '(ε = 7.683, δ = 0.00001) after 20 rounds, noise multiplier σ = 3.2, clipping norm C = 0.03',
    );
    expect(card).not.toContain('none (no privacy guarantee');
  });
});
