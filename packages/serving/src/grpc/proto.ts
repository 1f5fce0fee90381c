import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';

/** The Open Inference Protocol service, as KServe and Triton name it. */
export const INFERENCE_SERVICE = 'inference.GRPCInferenceService';
const STREAM_EXTENSION_SERVICE = 'inference.GRPCInferenceStreamExtension';
const OIP_PROTO = 'grpc_predict_v2.proto';
const STREAM_PROTO = 'model_stream_infer.proto';

/**
 * How messages are decoded: proto field names as written (`model_name`, `raw_input_contents`, as every
 * OIP client and doc spells them), int64 as JS numbers (shapes), bytes as Buffers, defaults filled in.
 */
export const PROTO_LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

export interface InferenceProto {
  /** Both files, for reflection. */
  packageDefinition: PackageDefinition;
  /** `inference.GRPCInferenceService` with Triton's `ModelStreamInfer` added under Triton's path. */
  service: ServiceDefinition;
}

/** The folder holding the vendored `.proto` files (the package's `proto/`), from src/ or dist/. */
export function findProtoDir(): string {
  // CJS builds have __dirname; ESM builds have import.meta.url.
  let dir = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i += 1) {
    if (existsSync(join(dir, 'proto', OIP_PROTO))) return join(dir, 'proto');
    dir = dirname(dir);
  }
  throw new Error(`cannot find proto/${OIP_PROTO} above ${dir}`);
}

/**
 * Loads the vendored OIP proto and the streaming extension. One proto service cannot span two files, so
 * `ModelStreamInfer` is declared on its own service and re-homed here onto Triton's method path.
 *
 * @example
 * const { service } = loadInferenceProto();
 * const Client = grpc.makeGenericClientConstructor(service, 'GRPCInferenceService');
 */
export function loadInferenceProto(protoDir = findProtoDir()): InferenceProto {
  const packageDefinition = loadSync([OIP_PROTO, STREAM_PROTO], {
    ...PROTO_LOADER_OPTIONS,
    includeDirs: [protoDir],
  });
  const oip = packageDefinition[INFERENCE_SERVICE] as ServiceDefinition;
  const extension = packageDefinition[STREAM_EXTENSION_SERVICE] as ServiceDefinition;
  const stream = extension['ModelStreamInfer']!;
  const service: ServiceDefinition = {
    ...oip,
    ModelStreamInfer: { ...stream, path: `/${INFERENCE_SERVICE}/ModelStreamInfer` },
  };
  return { packageDefinition, service };
}
