import type {} from '@fastify/swagger';
import { FedlearnError } from '@fedlearn/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { InferenceService, NamedTensor, OipDatatype, ServedModelInfo } from '../inference/contract.js';
import { deadlineFrom, requestIdOf } from './request-context.js';
import { flattenNumbers } from './tensor-json.js';

const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
];

const tensorMetadata = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    datatype: { type: 'string' },
    shape: { type: 'array', items: { type: 'integer' } },
  },
} as const;

const modelMetadataResponse = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    versions: { type: 'array', items: { type: 'string' } },
    platform: { type: 'string' },
    inputs: { type: 'array', items: tensorMetadata },
    outputs: { type: 'array', items: tensorMetadata },
  },
} as const;

const inferRequest = {
  type: 'object',
  required: ['inputs'],
  properties: {
    id: { type: 'string', maxLength: 256 },
    parameters: { type: 'object' },
    inputs: {
      type: 'array',
      minItems: 1,
      maxItems: 16,
      items: {
        type: 'object',
        required: ['name', 'shape', 'datatype', 'data'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 256 },
          shape: { type: 'array', maxItems: 8, items: { type: 'integer', minimum: 0 } },
          datatype: { type: 'string', enum: DATATYPES },
          parameters: { type: 'object' },
          data: { type: 'array' },
        },
      },
    },
    outputs: {
      type: 'array',
      maxItems: 16,
      items: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 256 } } },
    },
  },
} as const;

const inferResponse = {
  type: 'object',
  properties: {
    model_name: { type: 'string' },
    model_version: { type: 'string' },
    id: { type: 'string' },
    outputs: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          datatype: { type: 'string' },
          shape: { type: 'array', items: { type: 'integer' } },
          data: { type: 'array', items: { type: 'number' } },
        },
      },
    },
  },
} as const;

const errorResponse = { type: 'object', properties: { error: { type: 'string' } } } as const;
const errors = {
  400: errorResponse,
  401: errorResponse,
  404: errorResponse,
  413: errorResponse,
  422: errorResponse,
  429: errorResponse,
  503: errorResponse,
};

interface ModelParams {
  name: string;
  version?: string;
}

interface InferBody {
  id?: string;
  inputs: { name: string; shape: number[]; datatype: OipDatatype; data: unknown }[];
  outputs?: { name: string }[];
}

function metadata(info: ServedModelInfo) {
  return {
    name: info.name,
    versions: [info.version],
    platform: info.platform,
    inputs: info.inputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
    outputs: info.outputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
  };
}

/** The Open Inference Protocol v2 REST API (KServe, Triton and MLServer speak the same). */
export function registerOipRoutes(app: FastifyInstance, service: InferenceService, version: string): void {
  const tags = ['Open Inference Protocol v2'];
  app.get('/v2/health/live', { schema: { tags } }, async (_req, reply) =>
    service.isLive() ? { live: true } : reply.code(400).send({ error: 'server is not live' }),
  );
  app.get('/v2/health/ready', { schema: { tags } }, async (_req, reply) =>
    service.isReady() ? { ready: true } : reply.code(400).send({ error: 'server is not ready' }),
  );
  app.get('/v2', { schema: { tags } }, async () => ({ name: 'fedlearn', version, extensions: [] }));

  const modelMetadata = async (req: FastifyRequest<{ Params: ModelParams }>) =>
    metadata(service.modelInfo(req.params.name, req.params.version));
  const modelReady = async (req: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    service.modelInfo(req.params.name, req.params.version);
    return service.isReady(req.params.name, req.params.version)
      ? { name: req.params.name, ready: true }
      : reply.code(400).send({ error: `model ${req.params.name} is not ready` });
  };
  const infer = async (req: FastifyRequest<{ Params: ModelParams; Body: InferBody }>) => {
    const body = req.body;
    const inputs: NamedTensor[] = body.inputs.map((t, i) => ({
      name: t.name,
      datatype: t.datatype,
      shape: t.shape,
      data: flattenNumbers(t.data, `inputs[${i}].data`),
    }));
    const id = body.id ?? requestIdOf(req);
    const result = await service.infer(
      { model: req.params.name, ...(req.params.version ? { version: req.params.version } : {}), id, inputs },
      deadlineFrom(req),
    );
    let outputs = result.outputs;
    if (body.outputs) {
      const wanted = new Set(body.outputs.map((o) => o.name));
      const unknown = [...wanted].find((n) => !outputs.some((o) => o.name === n));
      if (unknown !== undefined) {
        throw new FedlearnError(
          'INPUT_SIGNATURE_MISMATCH',
          `outputs: the model has no output named ${JSON.stringify(unknown)}`,
          {
            details: { field: 'outputs' },
          },
        );
      }
      outputs = outputs.filter((o) => wanted.has(o.name));
    }
    return {
      model_name: result.model,
      model_version: result.version,
      id,
      outputs: outputs.map((o) => ({
        name: o.name,
        datatype: o.datatype,
        shape: o.shape,
        data: Array.from(o.data),
      })),
    };
  };

  for (const prefix of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    app.get(prefix, { schema: { tags, response: { 200: modelMetadataResponse, ...errors } } }, modelMetadata);
    app.get(`${prefix}/ready`, { schema: { tags } }, modelReady);
    app.post(
      `${prefix}/infer`,
      {
        schema: { tags, body: inferRequest, response: { 200: inferResponse, ...errors } },
        config: { predicts: true },
      },
      infer,
    );
  }
}
