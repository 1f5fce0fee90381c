import { FedlearnError, type LayersModelArtifacts, toModelJson, WEIGHTS_FILE_NAME } from '@fedlearn/core';
import { z } from 'zod';
import { assertMetricKey } from '../names.js';
import { DIFFERENTIAL_PRIVACY, type JobInfo, type RoundMetrics, type VersionMetadata } from '../types.js';
import { fromUtf8, type ModelFiles, utf8 } from './files.js';
import {
  formatMLmodel,
  MLMODEL_FILE,
  type MLmodel,
  MODEL_CARD_FILE,
  MODEL_JSON_FILE,
  parseMLmodel,
  validateFingerprints,
  validateMetricSources,
} from './mlmodel.js';
import { renderModelCard } from './model-card.js';
import { preprocessingFromTopology, signatureFromTopology } from './signature.js';

const weightSpecsSchema = z.array(
  z.object({ name: z.string().min(1), shape: z.array(z.number().int().min(0)), dtype: z.literal('float32') }),
);

/** Everything `packModelFolder` needs to write one version folder. */
export interface PackInput {
  artifacts: LayersModelArtifacts;
  job: JobInfo;
  metadata: VersionMetadata;
  /** Round metrics so far, for the model card. */
  history: readonly RoundMetrics[];
  runId?: string;
  /** ISO time of creation (injected so folders are reproducible). */
  createdAt: string;
  modelUuid: string;
}

/**
 * The tfjs version that built the model: given explicitly, else from `generatedBy` (written by
 * `model.save`), else from the topology's `keras_version` ("tfjs-layers 4.22.0", written by the
 * client's `model.toJSON()`, which is how the coordinator receives the model).
 */
export function tfjsVersionOf(artifacts: LayersModelArtifacts, explicit?: string): string {
  if (explicit) return explicit;
  const keras = artifacts.modelTopology['keras_version'];
  for (const text of [artifacts.generatedBy, typeof keras === 'string' ? keras : undefined]) {
    const match = /tfjs[\w-]*\s+v?(\d+\.\d+\.\d+[\w.-]*)/i.exec(text ?? '');
    if (match) return match[1]!;
  }
  return 'unknown';
}

function checkWeights(artifacts: LayersModelArtifacts): void {
  const expected = artifacts.weightSpecs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (expected !== artifacts.weightData.length) {
    throw new FedlearnError(
      'MODEL_FORMAT_INVALID',
      `weights hold ${artifacts.weightData.length} bytes but weightSpecs describe ${expected}`,
    );
  }
}

/**
 * Builds a model version folder: `model.json` + one weight shard (tfjs layers format),
 * `MLmodel` (custom `tfjs` flavor, signature, fedlearn metadata and lineage) and `README.md`.
 *
 * @example const { files } = packModelFolder({ artifacts, job, metadata, history, createdAt, modelUuid })
 */
export function packModelFolder(input: PackInput): { files: ModelFiles; mlmodel: MLmodel } {
  const { artifacts, job, metadata } = input;
  if (!Number.isInteger(metadata.round) || metadata.round < 0) {
    throw new FedlearnError(
      'INVALID_ARGUMENT',
      `round must be a non-negative integer, got ${metadata.round}`,
    );
  }
  for (const [k, v] of Object.entries(metadata.metrics)) {
    assertMetricKey(k);
    if (!Number.isFinite(v))
      throw new FedlearnError('INVALID_ARGUMENT', `metric ${k} is not a finite number`);
  }
  checkWeights(artifacts);
  const fingerprints = validateFingerprints(metadata.dataPartitions ?? []);
  const mlmodel: MLmodel = {
    artifactPath: 'model',
    modelUuid: input.modelUuid,
    createdAt: input.createdAt,
    ...(input.runId ? { runId: input.runId } : {}),
    tfjs: {
      format: 'layers-model',
      tfjsVersion: tfjsVersionOf(artifacts, metadata.tfjsVersion),
      modelFile: MODEL_JSON_FILE,
      weightsFiles: [WEIGHTS_FILE_NAME],
      preprocessing: metadata.preprocessing ?? preprocessingFromTopology(artifacts.modelTopology),
    },
    signature: metadata.signature ?? signatureFromTopology(artifacts.modelTopology),
    fedlearn: {
      modelName: job.modelName,
      jobId: job.jobId,
      round: metadata.round,
      strategy: job.strategy,
      secureAggregation: job.secureAggregation,
      differentialPrivacy: metadata.privacy ?? DIFFERENTIAL_PRIVACY,
      metrics: { ...metadata.metrics },
      metricSources: validateMetricSources(metadata.metricSources, metadata.metrics),
      dataPartitions: {
        clients: fingerprints.length,
        totalExamples: fingerprints.reduce((sum, f) => sum + f.examples, 0),
        fingerprints,
      },
      codeVersion: job.codeVersion ?? 'unknown',
      jobConfig: job.config ?? {},
    },
  };
  const files: ModelFiles = new Map();
  files.set(MODEL_JSON_FILE, utf8(JSON.stringify(toModelJson(artifacts, WEIGHTS_FILE_NAME))));
  files.set(WEIGHTS_FILE_NAME, artifacts.weightData);
  files.set(MLMODEL_FILE, utf8(formatMLmodel(mlmodel)));
  files.set(MODEL_CARD_FILE, utf8(renderModelCard(mlmodel, input.history, metadata.limits ?? [])));
  return { files, mlmodel };
}

function required(files: ModelFiles, path: string): Uint8Array {
  const bytes = files.get(path);
  if (!bytes)
    throw new FedlearnError('MODEL_FORMAT_INVALID', `model folder has no ${path}`, { details: { path } });
  return bytes;
}

/** Reads a model folder back into tfjs artifacts (`tf.io.fromMemory` loads them) and its MLmodel. */
export function unpackModelFolder(files: ModelFiles): { artifacts: LayersModelArtifacts; mlmodel: MLmodel } {
  const mlmodel = parseMLmodel(fromUtf8(required(files, MLMODEL_FILE)));
  let modelJson: Record<string, unknown>;
  try {
    modelJson = JSON.parse(fromUtf8(required(files, mlmodel.tfjs.modelFile))) as Record<string, unknown>;
  } catch (cause) {
    if (cause instanceof FedlearnError) throw cause;
    throw new FedlearnError('MODEL_FORMAT_INVALID', 'model.json is not JSON', { cause });
  }
  const manifest = modelJson['weightsManifest'];
  const topology = modelJson['modelTopology'];
  if (!Array.isArray(manifest) || typeof topology !== 'object' || topology === null) {
    throw new FedlearnError('MODEL_FORMAT_INVALID', 'model.json lacks modelTopology or weightsManifest');
  }
  const groups = manifest as { paths?: unknown; weights?: unknown }[];
  const specs = weightSpecsSchema.safeParse(
    groups.flatMap((g) => (Array.isArray(g.weights) ? g.weights : [])),
  );
  if (!specs.success) {
    throw new FedlearnError(
      'MODEL_FORMAT_INVALID',
      `model.json weights: ${specs.error.issues[0]?.message ?? 'invalid'}`,
    );
  }
  const weightSpecs = specs.data;
  const shards = groups
    .flatMap((g) => (Array.isArray(g.paths) ? g.paths : []))
    .map((p) => required(files, String(p)));
  const weightData = new Uint8Array(shards.reduce((n, s) => n + s.length, 0));
  let offset = 0;
  for (const shard of shards) {
    weightData.set(shard, offset);
    offset += shard.length;
  }
  const artifacts: LayersModelArtifacts = {
    modelTopology: topology as Record<string, unknown>,
    weightSpecs,
    weightData,
    format: 'layers-model',
    generatedBy: typeof modelJson['generatedBy'] === 'string' ? modelJson['generatedBy'] : 'fedlearn',
    convertedBy: null,
  };
  checkWeights(artifacts);
  return { artifacts, mlmodel };
}
