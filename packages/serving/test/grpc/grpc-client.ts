/** Test clients generated from the vendored protos, with promise wrappers. */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { service as healthService } from 'grpc-health-check';
import { loadInferenceProto } from '../../src/grpc/proto.js';

export type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

const InferenceClient = grpc.makeGenericClientConstructor(
  loadInferenceProto().service,
  'GRPCInferenceService',
);
const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');

const require = createRequire(import.meta.url);
const reflectionProto = join(
  dirname(require.resolve('@grpc/reflection/package.json')),
  'build/proto/grpc/reflection/v1/reflection.proto',
);
const reflectionDefinition = loadSync(reflectionProto, { keepCase: true, defaults: true, oneofs: true });
const ReflectionClient = grpc.makeGenericClientConstructor(
  reflectionDefinition['grpc.reflection.v1.ServerReflection'] as grpc.ServiceDefinition,
  'ServerReflection',
);

export function inferenceClient(address: string, credentials = grpc.credentials.createInsecure()): Client {
  return new InferenceClient(address, credentials) as unknown as Client;
}
export function healthClient(address: string): Client {
  return new HealthClient(address, grpc.credentials.createInsecure()) as unknown as Client;
}
export function reflectionClient(address: string): Client {
  return new ReflectionClient(address, grpc.credentials.createInsecure()) as unknown as Client;
}

/** Calls a unary rpc; resolves the response or rejects with the ServiceError. */
export function unary<T = Record<string, unknown>>(
  client: Client,
  method: string,
  request: unknown,
  metadata = new grpc.Metadata(),
  deadlineMs = 30_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method]!(
      request,
      metadata,
      { deadline: Date.now() + deadlineMs },
      (error: unknown, response: T) => (error ? reject(error) : resolve(response)),
    );
  });
}

/** The status a call failed with (fails the test if it succeeded). */
export async function failure(call: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await call;
  } catch (error) {
    return error as grpc.ServiceError;
  }
  throw new Error('expected the call to fail');
}
