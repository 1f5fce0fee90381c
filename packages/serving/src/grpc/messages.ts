/**
 * The OIP gRPC messages as proto-loader decodes and encodes them (PROTO_LOADER_OPTIONS: proto field
 * names, int64 as numbers, bytes as Buffers). Written by hand from grpc_predict_v2.proto.
 */

export interface InferTensorContents {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: number[];
  uint_contents?: number[];
  uint64_contents?: number[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Buffer[];
}

export interface InferInputTensor {
  name?: string;
  datatype?: string;
  shape?: number[];
  contents?: InferTensorContents | null;
}

export interface ModelInferRequest {
  model_name?: string;
  model_version?: string;
  id?: string;
  inputs?: InferInputTensor[];
  outputs?: { name?: string }[];
  raw_input_contents?: Buffer[];
}

export interface InferOutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  contents?: InferTensorContents;
}

export interface ModelInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: InferOutputTensor[];
  raw_output_contents: Buffer[];
}

export interface ModelStreamInferResponse {
  error_message: string;
  /** On failure only `id` is set, so the caller can pair the error with its request. */
  infer_response?: Partial<ModelInferResponse>;
}

export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

export interface ModelMetadataResponse {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}
