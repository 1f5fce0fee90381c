import { FedlearnError } from '../errors.js';
import { sha256Of } from '../hash.js';
import {
  assertSameSpecs,
  firstNonFinite,
  type ModelParams,
  sizeOfShape,
  type TensorSpec,
} from './tensors.js';
import { bytesToFloat32, float32ToBytes } from './tfjs-artifacts.js';

/**
 * Binary wire format for a model's parameters (all integers little-endian):
 *
 * ```
 * magic "FLPW" | u16 format version | u8 dtype (1 = float32) | u8 reserved | u32 tensor count
 * per tensor:  u16 name byte length | name (UTF-8) | u8 rank | u32 dim × rank
 * u32 payload byte length | payload (float32 values, tensors concatenated)
 * sha256 of everything above (32 bytes)
 * ```
 */
export const PARAMS_MAGIC = 'FLPW';
export const PARAMS_FORMAT_VERSION = 1;
export const DTYPE_FLOAT32 = 1;
const HASH_BYTES = 32;
const MAX_NAME_BYTES = 1024;
const MAX_RANK = 8;
/** Default upper bound for one encoded model: 256 MiB (64M float32 parameters). */
export const DEFAULT_MAX_PARAMS_BYTES = 256 * 1024 * 1024;

export interface DecodeParamsOptions {
  /** Refuse payloads larger than this many bytes (encoded size). */
  maxBytes?: number;
  /** When given, the decoded tensors must have exactly these names and shapes, in order. */
  expected?: readonly TensorSpec[];
}

/** Encodes parameters into the wire format. Refuses NaN/Inf, so nothing non-finite ever leaves. */
export function encodeParams(params: ModelParams): Uint8Array {
  const encoder = new TextEncoder();
  const names = params.map((t) => encoder.encode(t.name));
  let headerBytes = 4 + 2 + 1 + 1 + 4;
  let valueCount = 0;
  params.forEach((tensor, i) => {
    const size = sizeOfShape(tensor.shape);
    if (tensor.values.length !== size) {
      throw new FedlearnError(
        'PARAMS_SHAPE_MISMATCH',
        `tensor ${tensor.name} has ${tensor.values.length} values, its shape needs ${size}`,
      );
    }
    if (names[i]!.length > MAX_NAME_BYTES || tensor.shape.length > MAX_RANK) {
      throw new FedlearnError('INVALID_ARGUMENT', `tensor ${i}: name or rank too long for the wire format`);
    }
    const bad = firstNonFinite(tensor.values);
    if (bad >= 0) {
      throw new FedlearnError(
        'PARAMS_NOT_FINITE',
        `tensor ${tensor.name} holds a non-finite value at index ${bad}`,
        {
          details: { name: tensor.name, index: bad },
        },
      );
    }
    headerBytes += 2 + names[i]!.length + 1 + 4 * tensor.shape.length;
    valueCount += size;
  });
  const payloadBytes = valueCount * 4;
  const out = new Uint8Array(headerBytes + 4 + payloadBytes + HASH_BYTES);
  const view = new DataView(out.buffer);
  out.set(encoder.encode(PARAMS_MAGIC), 0);
  let offset = 4;
  view.setUint16(offset, PARAMS_FORMAT_VERSION, true);
  view.setUint8(offset + 2, DTYPE_FLOAT32);
  view.setUint8(offset + 3, 0);
  view.setUint32(offset + 4, params.length, true);
  offset += 8;
  params.forEach((tensor, i) => {
    view.setUint16(offset, names[i]!.length, true);
    out.set(names[i]!, offset + 2);
    offset += 2 + names[i]!.length;
    view.setUint8(offset, tensor.shape.length);
    offset += 1;
    for (const dim of tensor.shape) {
      view.setUint32(offset, dim, true);
      offset += 4;
    }
  });
  view.setUint32(offset, payloadBytes, true);
  offset += 4;
  for (const tensor of params) {
    out.set(float32ToBytes(tensor.values), offset);
    offset += tensor.values.length * 4;
  }
  out.set(sha256Of(out.subarray(0, offset)), offset);
  return out;
}

/** Decodes and fully validates a wire payload. Every failure is a typed `FedlearnError`. */
export function decodeParams(bytes: Uint8Array, options: DecodeParamsOptions = {}): ModelParams {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_PARAMS_BYTES;
  if (!(bytes instanceof Uint8Array)) {
    throw new FedlearnError('MALFORMED_MESSAGE', 'parameters must be binary (Uint8Array)');
  }
  if (bytes.length > maxBytes) {
    throw new FedlearnError(
      'PARAMS_TOO_LARGE',
      `parameters are ${bytes.length} bytes, the limit is ${maxBytes}`,
      {
        details: { bytes: bytes.length, limit: maxBytes },
      },
    );
  }
  const reader = new Reader(bytes);
  const magic = new TextDecoder().decode(reader.bytes(4));
  if (magic !== PARAMS_MAGIC) {
    throw new FedlearnError('PARAMS_BAD_MAGIC', 'not a fedlearn parameter payload (bad magic bytes)');
  }
  const version = reader.u16();
  if (version !== PARAMS_FORMAT_VERSION) {
    throw new FedlearnError(
      'PARAMS_UNSUPPORTED_VERSION',
      `parameter format version ${version} is not supported (expected ${PARAMS_FORMAT_VERSION}); upgrade the older side`,
      { details: { version } },
    );
  }
  const dtype = reader.u8();
  if (dtype !== DTYPE_FLOAT32) {
    throw new FedlearnError('PARAMS_UNSUPPORTED_DTYPE', `dtype ${dtype} is not supported (only float32)`, {
      details: { dtype },
    });
  }
  reader.u8();
  const count = reader.u32();
  // Each tensor needs at least 3 header bytes: reject absurd counts before allocating.
  if (count * 3 > bytes.length) throw truncated();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const specs: TensorSpec[] = [];
  let valueCount = 0;
  for (let i = 0; i < count; i++) {
    let name: string;
    try {
      name = decoder.decode(reader.bytes(reader.u16()));
    } catch (error) {
      if (error instanceof FedlearnError) throw error;
      throw new FedlearnError('MALFORMED_MESSAGE', `tensor ${i} has a name that is not UTF-8`);
    }
    const rank = reader.u8();
    if (rank > MAX_RANK) throw new FedlearnError('PARAMS_SHAPE_MISMATCH', `tensor ${name} has rank ${rank}`);
    const shape: number[] = [];
    for (let r = 0; r < rank; r++) shape.push(reader.u32());
    valueCount += sizeOfShape(shape);
    specs.push({ name, shape });
  }
  const payloadBytes = reader.u32();
  if (payloadBytes !== valueCount * 4) {
    throw new FedlearnError(
      'PARAMS_SHAPE_MISMATCH',
      `payload holds ${payloadBytes} bytes but the shapes need ${valueCount * 4}`,
      { details: { payloadBytes, needed: valueCount * 4 } },
    );
  }
  const payloadStart = reader.offset;
  reader.bytes(payloadBytes);
  const hashStart = reader.offset;
  const hash = reader.bytes(HASH_BYTES);
  if (reader.offset !== bytes.length) {
    throw new FedlearnError(
      'MALFORMED_MESSAGE',
      `${bytes.length - reader.offset} unexpected bytes after the hash`,
    );
  }
  if (!equalBytes(sha256Of(bytes.subarray(0, hashStart)), hash)) {
    throw new FedlearnError('PARAMS_HASH_MISMATCH', 'parameter payload is corrupt (sha256 does not match)');
  }
  if (options.expected) assertSameSpecs(options.expected, specs);
  const flat = bytesToFloat32(bytes.subarray(payloadStart, hashStart));
  const bad = firstNonFinite(flat);
  if (bad >= 0) {
    throw new FedlearnError('PARAMS_NOT_FINITE', `parameter ${bad} is NaN or infinite`, {
      details: { index: bad },
    });
  }
  const params: ModelParams = [];
  let offset = 0;
  for (const spec of specs) {
    const size = sizeOfShape(spec.shape);
    params.push({ name: spec.name, shape: spec.shape, values: flat.subarray(offset, offset + size) });
    offset += size;
  }
  return params;
}

function truncated(): FedlearnError {
  return new FedlearnError('PARAMS_TRUNCATED', 'parameter payload is truncated');
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

class Reader {
  offset = 0;
  private readonly view: DataView;

  constructor(private readonly buffer: Uint8Array) {
    this.view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  private need(n: number): void {
    if (this.offset + n > this.buffer.length) throw truncated();
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.offset++);
  }

  u16(): number {
    this.need(2);
    const value = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return value;
  }

  u32(): number {
    this.need(4);
    const value = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.buffer.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
}
