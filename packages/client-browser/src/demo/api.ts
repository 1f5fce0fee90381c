import { FedlearnError } from '@fedlearn/core';

/** `GET /demo/api/session`: what a page needs to join (behind the demo token). */
export interface DemoSession {
  clientToken: string;
  clientId: string;
  /** `GET /demo/api/data/:slice` holds this page's digits. */
  slice: number;
  /** The job's model, as `model.toJSON()` gives it, for `tfl.models.modelFromJSON`. */
  modelTopology: Record<string, unknown>;
}

/** `GET /demo/api/state`: the job, its rounds and who took part in each. */
export interface DemoState {
  job: { id: string; status: string; round: number | null; rounds: number } | null;
  rounds: {
    round: number;
    status: string;
    accuracy: number | null;
    loss: number | null;
    participants: { clientId: string; runtime: 'browser' | 'node' | 'other' }[];
  }[];
  /** The round whose global model `GET /demo/api/model` serves (0: none yet). */
  modelRound: number;
}

const HEADER_BYTES = 8;

/** Digits on the wire: [count u32][features u32][images f32 × count × features][labels u8 × count]. */
export function encodeDigitSlice(images: Float32Array, labels: Uint8Array, features: number): Uint8Array {
  const count = labels.length;
  const out = new Uint8Array(HEADER_BYTES + count * features * 4 + count);
  const view = new DataView(out.buffer);
  view.setUint32(0, count, true);
  view.setUint32(4, features, true);
  out.set(new Uint8Array(images.buffer, images.byteOffset, count * features * 4), HEADER_BYTES);
  out.set(labels, HEADER_BYTES + count * features * 4);
  return out;
}

export function decodeDigitSlice(bytes: Uint8Array): {
  images: Float32Array;
  labels: Uint8Array;
  features: number;
} {
  if (bytes.length < HEADER_BYTES)
    throw new FedlearnError('MALFORMED_MESSAGE', 'digit slice shorter than its header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  const features = view.getUint32(4, true);
  if (features === 0 || bytes.length !== HEADER_BYTES + count * features * 4 + count) {
    throw new FedlearnError('MALFORMED_MESSAGE', 'digit slice length does not match its header');
  }
  const images = new Float32Array(count * features);
  new Uint8Array(images.buffer).set(bytes.subarray(HEADER_BYTES, HEADER_BYTES + count * features * 4));
  return { images, labels: bytes.slice(HEADER_BYTES + count * features * 4), features };
}
