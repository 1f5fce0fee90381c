import { FedlearnError } from '@fedlearn/core';
import { z } from 'zod';
import type { InferenceRequest, InferenceResult } from '../inference/contract.js';

/**
 * The wire format of the request stream. Each entry has the fields
 *   model    the served model's name (required)
 *   version  a pinned version (optional; the alias's version by default)
 *   id       the caller's request id (optional; the entry id by default)
 *   request  an Open Inference Protocol v2 JSON request body: {"inputs":[{"name","datatype","shape","data"}]}
 *   token    an API key or JWT (required when auth is on; never copied to the result or dead-letter stream)
 * and gets one entry on the result stream with the fields id, entry, model, version and response (an OIP
 * v2 JSON response body), or one on the dead-letter stream with entry, reason, code, deliveries, fields.
 */
export type EntryFields = Record<string, string>;

export interface StreamLimits {
  /** Largest entry (all fields, in UTF-16 code units) the worker parses. */
  maxEntryChars: number;
  maxInputs: number;
  maxElements: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxEntryChars: 1 << 20,
  maxInputs: 16,
  maxElements: 1 << 20,
};

const tensorSchema = z.object({
  name: z.string().min(1).max(256),
  datatype: z.literal('FP32'),
  shape: z.array(z.number().int().nonnegative()).min(1).max(8),
  data: z.array(z.unknown()),
});

const requestSchema = z.object({
  id: z.string().max(256).optional(),
  inputs: z.array(tensorSchema).min(1),
});

function malformed(reason: string): FedlearnError {
  return new FedlearnError('MALFORMED_MESSAGE', reason);
}

/** ioredis returns fields as a flat [name, value, ...] list. */
export function fieldsOf(flat: string[]): EntryFields {
  const fields: EntryFields = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
  return fields;
}

function flatNumbers(data: unknown[], limit: number): Float32Array {
  // OIP lets data be nested like the shape; depth is already bounded by the JSON size limit.
  const flat = data.flat(8);
  if (flat.length > limit) throw malformed(`more than ${limit} values in a tensor`);
  const out = new Float32Array(flat.length);
  for (let i = 0; i < flat.length; i += 1) {
    const value = flat[i];
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw malformed('tensor data must be finite numbers');
    out[i] = value;
  }
  return out;
}

/** Parses one request entry; throws MALFORMED_MESSAGE naming the field and why, never the values. */
export function parseRequestEntry(
  entryId: string,
  fields: EntryFields,
  limits: StreamLimits = DEFAULT_STREAM_LIMITS,
): InferenceRequest {
  let size = 0;
  for (const [k, v] of Object.entries(fields)) size += k.length + v.length;
  if (size > limits.maxEntryChars)
    throw malformed(`the entry is larger than ${limits.maxEntryChars} characters`);
  const model = fields['model'];
  if (!model) throw malformed('field "model" is missing');
  const body = fields['request'];
  if (body === undefined) throw malformed('field "request" is missing');
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw malformed('field "request" is not JSON');
  }
  const parsed = requestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw malformed(`request.${issue.path.join('.')}: ${issue.message}`);
  }
  if (parsed.data.inputs.length > limits.maxInputs) throw malformed(`at most ${limits.maxInputs} inputs`);
  const request: InferenceRequest = {
    model,
    id: fields['id'] || parsed.data.id || entryId,
    inputs: parsed.data.inputs.map((t) => ({
      name: t.name,
      datatype: t.datatype,
      shape: t.shape,
      data: flatNumbers(t.data, limits.maxElements),
    })),
  };
  if (fields['version']) request.version = fields['version'];
  return request;
}

/** The result entry's fields: who produced it and the OIP JSON response. */
export function resultFields(entryId: string, result: InferenceResult): string[] {
  const response = {
    model_name: result.model,
    model_version: result.version,
    id: result.id ?? entryId,
    outputs: result.outputs.map((o) => ({
      name: o.name,
      datatype: o.datatype,
      shape: o.shape,
      data: Array.from(o.data),
    })),
  };
  return [
    'id',
    response.id,
    'entry',
    entryId,
    'model',
    result.model,
    'version',
    result.version,
    'response',
    JSON.stringify(response),
  ];
}
