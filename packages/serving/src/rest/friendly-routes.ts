import type {} from '@fastify/swagger';
import { FedlearnError } from '@fedlearn/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ExplanationMethod, InferenceService, TensorSpec } from '../inference/contract.js';
import { MAX_ROWS_PER_REQUEST } from '../inference/input-check.js';
import { deadlineFrom, requestIdOf } from './request-context.js';
import { argmax, flattenNumbers } from './tensor-json.js';

type Instance = number[] | number[][] | Record<string, number>;

const instanceSchema = {
  description: 'one instance: its values (flat or nested row-major), or an object keyed by feature name',
  anyOf: [{ type: 'array' }, { type: 'object', additionalProperties: { type: 'number' } }],
} as const;

const predictionSchema = {
  type: 'object',
  properties: { class: { type: 'integer' }, probabilities: { type: 'array', items: { type: 'number' } } },
} as const;

/** Every response names the request, the model and the version that answered. */
const answeredBy = {
  id: { type: 'string' },
  model: { type: 'string' },
  version: { type: 'string' },
} as const;

const errorSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, code: { type: 'string' }, field: { type: 'string' } },
} as const;
const errors = {
  400: errorSchema,
  401: errorSchema,
  404: errorSchema,
  413: errorSchema,
  422: errorSchema,
  429: errorSchema,
  503: errorSchema,
};

/** One instance as the model's input row; named features are ordered by the signature's names. */
export function instanceValues(instance: Instance, spec: TensorSpec, field: string): Float32Array {
  if (Array.isArray(instance)) return flattenNumbers(instance, field);
  if (!spec.featureNames) {
    throw new FedlearnError(
      'INPUT_SIGNATURE_MISMATCH',
      `${field}: this model has no feature names; send an array`,
      {
        details: { field },
      },
    );
  }
  const missing = spec.featureNames.find((n) => typeof instance[n] !== 'number');
  if (missing !== undefined) {
    throw new FedlearnError('INPUT_SIGNATURE_MISMATCH', `${field}.${missing}: missing feature`, {
      details: { field: `${field}.${missing}` },
    });
  }
  const extra = Object.keys(instance).find((k) => !spec.featureNames!.includes(k));
  if (extra !== undefined) {
    throw new FedlearnError(
      'INPUT_SIGNATURE_MISMATCH',
      `${field}: unknown feature ${JSON.stringify(extra.slice(0, 64))}`,
      {
        details: { field },
      },
    );
  }
  return Float32Array.from(spec.featureNames.map((n) => instance[n]!));
}

function rowsTensor(spec: TensorSpec, rows: Float32Array[], fieldOf: (i: number) => string) {
  const data = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
  let offset = 0;
  for (const r of rows) {
    data.set(r, offset);
    offset += r.length;
  }
  const width = spec.shape.slice(1);
  rows.forEach((r, i) => {
    const expected = width.reduce((n, d) => n * d, 1);
    if (r.length !== expected) {
      throw new FedlearnError(
        'INPUT_SIGNATURE_MISMATCH',
        `${fieldOf(i)}: the model takes ${expected} values per instance, got ${r.length}`,
        {
          details: { field: fieldOf(i) },
        },
      );
    }
  });
  return { name: spec.name, datatype: 'FP32' as const, shape: [rows.length, ...width], data };
}

interface Params {
  name: string;
}

/** A friendlier API than OIP for one or a few instances: classes and probabilities, and explanations. */
export function registerFriendlyRoutes(app: FastifyInstance, service: InferenceService): void {
  const tags = ['predictions'];
  const predictRows = async (
    req: FastifyRequest<{ Params: Params }>,
    version: string | undefined,
    instances: Instance[],
    field: string,
  ) => {
    const spec = service.modelInfo(req.params.name, version).inputs[0]!;
    const fieldOf = (i: number) => (field === 'instance' ? field : `${field}[${i}]`);
    const rows = instances.map((inst, i) => instanceValues(inst, spec, fieldOf(i)));
    const result = await service.infer(
      {
        model: req.params.name,
        ...(version ? { version } : {}),
        id: requestIdOf(req),
        inputs: [rowsTensor(spec, rows, fieldOf)],
      },
      deadlineFrom(req),
    );
    const out = result.outputs[0]!;
    const width = out.shape[1] ?? 1;
    const predictions = instances.map((_, i) => {
      const probabilities = Array.from(out.data.subarray(i * width, (i + 1) * width));
      return { class: argmax(probabilities), probabilities };
    });
    return { result, predictions };
  };

  app.post<{ Params: Params; Body: { instance: Instance; version?: string } }>(
    '/v1/models/:name/predict',
    {
      schema: {
        tags,
        summary: 'Predict the class of one instance',
        body: {
          type: 'object',
          required: ['instance'],
          properties: { instance: instanceSchema, version: { type: 'string' } },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              ...answeredBy,
              ...predictionSchema.properties,
            },
          },
          ...errors,
        },
      },
      config: { predicts: true },
    },
    async (req) => {
      const { result, predictions } = await predictRows(
        req,
        req.body.version,
        [req.body.instance],
        'instance',
      );
      return { id: result.id, model: result.model, version: result.version, ...predictions[0]! };
    },
  );

  app.post<{ Params: Params; Body: { instances: Instance[]; version?: string } }>(
    '/v1/models/:name/predict-batch',
    {
      schema: {
        tags,
        summary: 'Predict the classes of several instances (all answered by one model version)',
        body: {
          type: 'object',
          required: ['instances'],
          properties: {
            instances: { type: 'array', minItems: 1, maxItems: MAX_ROWS_PER_REQUEST, items: instanceSchema },
            version: { type: 'string' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              ...answeredBy,
              predictions: { type: 'array', items: predictionSchema },
            },
          },
          ...errors,
        },
      },
      config: { predicts: true },
    },
    async (req) => {
      const { result, predictions } = await predictRows(
        req,
        req.body.version,
        req.body.instances,
        'instances',
      );
      return { id: result.id, model: result.model, version: result.version, predictions };
    },
  );

  app.post<{
    Params: Params;
    Body: {
      instance: Instance;
      target?: number;
      method?: ExplanationMethod;
      steps?: number;
      version?: string;
    };
  }>(
    '/v1/models/:name/explain',
    {
      schema: {
        tags,
        summary: 'Attribute one prediction to the input features (integrated gradients or gradient × input)',
        body: {
          type: 'object',
          required: ['instance'],
          properties: {
            instance: instanceSchema,
            target: { type: 'integer', minimum: 0 },
            method: { type: 'string', enum: ['integrated-gradients', 'gradient-x-input'] },
            steps: { type: 'integer', minimum: 1, maximum: 256 },
            version: { type: 'string' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              ...answeredBy,
              method: { type: 'string' },
              target: { type: 'integer' },
              class: { type: 'integer' },
              probabilities: { type: 'array', items: { type: 'number' } },
              attributions: { type: 'array', items: { type: 'number' } },
            },
          },
          ...errors,
        },
      },
      config: { predicts: true },
    },
    async (req) => {
      if (!service.explain) throw new FedlearnError('INTERNAL', 'this service cannot explain');
      const { name } = req.params;
      const spec = service.modelInfo(name, req.body.version).inputs[0]!;
      const e = await service.explain({
        model: name,
        id: requestIdOf(req),
        instance: instanceValues(req.body.instance, spec, 'instance'),
        ...(req.body.version ? { version: req.body.version } : {}),
        ...(req.body.target !== undefined ? { target: req.body.target } : {}),
        ...(req.body.method ? { method: req.body.method } : {}),
        ...(req.body.steps !== undefined ? { steps: req.body.steps } : {}),
      });
      return {
        id: e.id,
        model: e.model,
        version: e.version,
        method: e.method,
        target: e.target,
        class: argmax(e.probabilities),
        probabilities: e.probabilities,
        attributions: Array.from(e.attributions),
      };
    },
  );
}
