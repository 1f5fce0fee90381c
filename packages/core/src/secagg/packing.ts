/**
 * Packs values of Z_(2^b) at exactly b bits each, little-endian within 32-bit words, so the upload
 * costs b/32 of a float32 vector. Unpacking refuses a wrong length or non-zero padding bits.
 */
export function packedLength(length: number, bits: number): number {
  return Math.ceil((length * bits) / 32) * 4;
}

export function packVector(values: Uint32Array, bits: number): Uint8Array {
  const words = new Uint32Array(packedLength(values.length, bits) / 4);
  if (bits === 32) {
    words.set(values);
  } else {
    const mask = 2 ** bits - 1;
    for (let i = 0, pos = 0; i < values.length; i++, pos += bits) {
      const v = ((values[i] as number) & mask) >>> 0;
      const w = pos >>> 5;
      const off = pos & 31;
      words[w] = (words[w] as number) | (v << off);
      if (off + bits > 32) words[w + 1] = v >>> (32 - off);
    }
  }
  return toLittleEndianBytes(words);
}

/** The values, or undefined when `bytes` is not a packing of `length` values at `bits` bits. */
export function unpackVector(bytes: Uint8Array, length: number, bits: number): Uint32Array | undefined {
  if (bytes.length !== packedLength(length, bits)) return undefined;
  const words = fromLittleEndianBytes(bytes);
  if (bits === 32) return words;
  const out = new Uint32Array(length);
  const mask = 2 ** bits - 1;
  let pos = 0;
  for (let i = 0; i < length; i++, pos += bits) {
    const w = pos >>> 5;
    const off = pos & 31;
    let v = (words[w] as number) >>> off;
    if (off + bits > 32) v |= (words[w + 1] as number) << (32 - off);
    out[i] = (v & mask) >>> 0;
  }
  const used = pos & 31;
  if (used !== 0 && (words[words.length - 1] as number) >>> used !== 0) return undefined;
  return out;
}

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function toLittleEndianBytes(words: Uint32Array): Uint8Array {
  const bytes = new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
  if (!littleEndian) {
    for (let i = 0; i < bytes.length; i += 4) bytes.subarray(i, i + 4).reverse();
  }
  return bytes;
}

function fromLittleEndianBytes(bytes: Uint8Array): Uint32Array {
  // Copy: bytes from a socket may be unaligned, and we must not alias the caller's buffer.
  const copy = bytes.slice();
  if (!littleEndian) {
    for (let i = 0; i < copy.length; i += 4) copy.subarray(i, i + 4).reverse();
  }
  return new Uint32Array(copy.buffer, 0, copy.length / 4);
}
