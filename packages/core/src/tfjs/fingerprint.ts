import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import type { DataFingerprint } from '../strategy/types.js';
import type { LabelledTensors } from './tf-api.js';

/** sha256 over the dtypes, shapes and bytes of x and y: identifies a partition without revealing it. */
export function fingerprintTensors(data: LabelledTensors): DataFingerprint {
  const hash = sha256.create();
  for (const tensor of [data.x, data.y]) {
    hash.update(utf8ToBytes(`${tensor.dtype}[${tensor.shape.join(',')}]`));
    const values = tensor.dataSync();
    hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return { sha256: bytesToHex(hash.digest()), examples: data.x.shape[0] ?? 0 };
}
