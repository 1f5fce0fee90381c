import { FedlearnError } from '@fedlearn/core';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import {
  DIFFERENTIAL_PRIVACY,
  type DifferentialPrivacy,
  type EvaluationSet,
  type ModelSignature,
  type PartitionFingerprint,
  type TensorSignature,
} from '../types.js';

/** MLflow's model descriptor (YAML) in every version folder. */
export const MLMODEL_FILE = 'MLmodel';
/** The tfjs layers model (topology and weights manifest). */
export const MODEL_JSON_FILE = 'model.json';
/** The model card. */
export const MODEL_CARD_FILE = 'README.md';

const tensorSchema = z.object({
  name: z.string().min(1),
  dtype: z.enum(['float32', 'int32', 'bool', 'string']),
  shape: z.array(z.number().int().min(-1)),
});

const fingerprintSchema = z.object({
  clientId: z.string().min(1).max(256),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a hex sha256'),
  examples: z.number().int().min(0),
});

const evaluationSetSchema = z.enum(['server-test-set', 'clients-held-out']);

const fedlearnMetadataSchema = z.object({
  model_name: z.string().min(1),
  job_id: z.string().min(1),
  round: z.number().int().min(0),
  strategy: z.string().min(1),
  secure_aggregation: z.boolean(),
  differential_privacy: z
    .union([
      z.literal(DIFFERENTIAL_PRIVACY),
      z.object({
        mode: z.enum(['central', 'distributed']),
        epsilon: z.number().nonnegative(),
        delta: z.number().gt(0).lt(1),
        noise_multiplier: z.number().positive(),
        clip_norm: z.number().positive(),
        sampling_rate: z.number().min(0).max(1),
        rounds: z.number().int().min(0),
        accountant: z.string(),
      }),
    ])
    .default(DIFFERENTIAL_PRIVACY),
  metrics: z.record(z.string(), z.number()),
  metric_sources: z.record(z.string(), evaluationSetSchema).default({}),
  data_partitions: z.object({
    clients: z.number().int().min(0),
    total_examples: z.number().int().min(0),
    fingerprints: z.array(fingerprintSchema),
  }),
  code_version: z.string(),
  job_config: z.record(z.string(), z.unknown()),
});

const mlmodelSchema = z.object({
  artifact_path: z.string(),
  model_uuid: z.string().min(1),
  utc_time_created: z.string().min(1),
  run_id: z.string().optional(),
  flavors: z.object({
    tfjs: z.object({
      format: z.literal('layers-model'),
      tfjs_version: z.string().min(1),
      model_file: z.string().min(1),
      weights_files: z.array(z.string().min(1)).min(1),
      preprocessing: z.string(),
    }),
  }),
  signature: z.object({ inputs: z.string(), outputs: z.string() }),
  metadata: z.object({ fedlearn: fedlearnMetadataSchema }),
});

/** The parsed `MLmodel` file: MLflow's model descriptor with a custom `tfjs` flavor. */
export interface MLmodel {
  artifactPath: string;
  modelUuid: string;
  createdAt: string;
  runId?: string;
  tfjs: {
    format: 'layers-model';
    tfjsVersion: string;
    modelFile: string;
    weightsFiles: string[];
    preprocessing: string;
  };
  signature: ModelSignature;
  fedlearn: {
    modelName: string;
    jobId: string;
    round: number;
    strategy: string;
    secureAggregation: boolean;
    /** The version's DP guarantee, or `none`. */
    differentialPrivacy: DifferentialPrivacy;
    metrics: Record<string, number>;
    /** The data each metric was measured on; a metric absent here has no recorded source. */
    metricSources: Record<string, EvaluationSet>;
    dataPartitions: { clients: number; totalExamples: number; fingerprints: PartitionFingerprint[] };
    codeVersion: string;
    jobConfig: Record<string, unknown>;
  };
}

/** MLflow's tensor-spec JSON for one tensor. */
function toMlflowTensor(tensor: TensorSignature): Record<string, unknown> {
  return { type: 'tensor', 'tensor-spec': { dtype: tensor.dtype, shape: tensor.shape }, name: tensor.name };
}

const mlflowTensorSchema = z.array(
  z.object({
    type: z.literal('tensor'),
    name: z.string().min(1),
    'tensor-spec': z.object({ dtype: tensorSchema.shape.dtype, shape: tensorSchema.shape.shape }),
  }),
);

/** Serialises an MLmodel to YAML (signature inputs/outputs are JSON strings, as MLflow writes them). */
export function formatMLmodel(model: MLmodel): string {
  const f = model.fedlearn;
  const doc = {
    artifact_path: model.artifactPath,
    flavors: {
      tfjs: {
        format: model.tfjs.format,
        tfjs_version: model.tfjs.tfjsVersion,
        model_file: model.tfjs.modelFile,
        weights_files: model.tfjs.weightsFiles,
        preprocessing: model.tfjs.preprocessing,
      },
    },
    model_uuid: model.modelUuid,
    ...(model.runId ? { run_id: model.runId } : {}),
    utc_time_created: model.createdAt,
    signature: {
      inputs: JSON.stringify(model.signature.inputs.map(toMlflowTensor)),
      outputs: JSON.stringify(model.signature.outputs.map(toMlflowTensor)),
    },
    metadata: {
      fedlearn: {
        model_name: f.modelName,
        job_id: f.jobId,
        round: f.round,
        strategy: f.strategy,
        secure_aggregation: f.secureAggregation,
        differential_privacy: privacyToYaml(f.differentialPrivacy),
        metrics: f.metrics,
        metric_sources: f.metricSources,
        data_partitions: {
          clients: f.dataPartitions.clients,
          total_examples: f.dataPartitions.totalExamples,
          fingerprints: f.dataPartitions.fingerprints,
        },
        code_version: f.codeVersion,
        job_config: f.jobConfig,
      },
    },
  };
  mlmodelSchema.parse(doc);
  return stringify(doc);
}

function invalid(message: string, cause?: unknown): FedlearnError {
  return new FedlearnError(
    'MODEL_FORMAT_INVALID',
    `MLmodel: ${message}`,
    cause === undefined ? {} : { cause },
  );
}

/** Parses and validates an `MLmodel` file; anything malformed is MODEL_FORMAT_INVALID. */
export function parseMLmodel(text: string): MLmodel {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (cause) {
    throw invalid('not YAML', cause);
  }
  const result = mlmodelSchema.safeParse(doc);
  if (!result.success)
    throw invalid(result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const m = result.data;
  const signature = { inputs: parseTensors(m.signature.inputs), outputs: parseTensors(m.signature.outputs) };
  const f = m.metadata.fedlearn;
  return {
    artifactPath: m.artifact_path,
    modelUuid: m.model_uuid,
    createdAt: m.utc_time_created,
    ...(m.run_id ? { runId: m.run_id } : {}),
    tfjs: {
      format: m.flavors.tfjs.format,
      tfjsVersion: m.flavors.tfjs.tfjs_version,
      modelFile: m.flavors.tfjs.model_file,
      weightsFiles: m.flavors.tfjs.weights_files,
      preprocessing: m.flavors.tfjs.preprocessing,
    },
    signature,
    fedlearn: {
      modelName: f.model_name,
      jobId: f.job_id,
      round: f.round,
      strategy: f.strategy,
      secureAggregation: f.secure_aggregation,
      differentialPrivacy: privacyFromYaml(f.differential_privacy),
      metrics: f.metrics,
      metricSources: f.metric_sources,
      dataPartitions: {
        clients: f.data_partitions.clients,
        totalExamples: f.data_partitions.total_examples,
        fingerprints: f.data_partitions.fingerprints,
      },
      codeVersion: f.code_version,
      jobConfig: f.job_config,
    },
  };
}

function parseTensors(json: string): TensorSignature[] {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (cause) {
    throw invalid('signature is not JSON', cause);
  }
  const result = mlflowTensorSchema.safeParse(value);
  if (!result.success) throw invalid(`signature: ${result.error.issues[0]?.message ?? 'invalid'}`);
  return result.data.map((t) => ({
    name: t.name,
    dtype: t['tensor-spec'].dtype,
    shape: t['tensor-spec'].shape,
  }));
}

/** Validates lineage fingerprints at the edge (hash and size only). */
export function validateFingerprints(value: unknown): PartitionFingerprint[] {
  const result = z.array(fingerprintSchema).safeParse(value);
  if (!result.success) {
    throw new FedlearnError(
      'INVALID_ARGUMENT',
      `data partition fingerprints: ${result.error.issues[0]?.message}`,
    );
  }
  return result.data;
}

/** Validates which data each metric came from: a known set, and only for metrics the version has. */
export function validateMetricSources(
  value: unknown,
  metrics: Record<string, number>,
): Record<string, EvaluationSet> {
  const result = z.record(z.string(), evaluationSetSchema).safeParse(value ?? {});
  if (!result.success) {
    throw new FedlearnError('INVALID_ARGUMENT', `metric sources: ${result.error.issues[0]?.message}`);
  }
  for (const key of Object.keys(result.data)) {
    if (!(key in metrics))
      throw new FedlearnError('INVALID_ARGUMENT', `metric source given for unknown metric ${key}`);
  }
  return result.data;
}

/** The accountant behind every recorded ε. */
export const PRIVACY_ACCOUNTANT = 'RDP of the sampled Gaussian mechanism (Mironov, Talwar and Zhang 2019)';

type PrivacyYaml = z.infer<typeof fedlearnMetadataSchema>['differential_privacy'];

function privacyToYaml(p: DifferentialPrivacy): PrivacyYaml {
  if (p === DIFFERENTIAL_PRIVACY) return p;
  return {
    mode: p.mode,
    epsilon: p.epsilon,
    delta: p.delta,
    noise_multiplier: p.noiseMultiplier,
    clip_norm: p.clipNorm,
    sampling_rate: p.samplingRate,
    rounds: p.rounds,
    accountant: PRIVACY_ACCOUNTANT,
  };
}

function privacyFromYaml(p: PrivacyYaml): DifferentialPrivacy {
  if (p === DIFFERENTIAL_PRIVACY) return p;
  return {
    mode: p.mode,
    epsilon: p.epsilon,
    delta: p.delta,
    noiseMultiplier: p.noise_multiplier,
    clipNorm: p.clip_norm,
    samplingRate: p.sampling_rate,
    rounds: p.rounds,
  };
}
