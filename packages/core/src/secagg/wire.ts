import { FedlearnError } from '../errors.js';

/**
 * The byte form of a secure-aggregation message, so it can travel in the one binary field of a
 * fedlearn frame (chunked and size-limited like model weights):
 *
 *   "FLSA" | version (1 byte) | header length (u32 LE) | JSON header | sections
 *
 * The header is the message with every binary field replaced by `{"$b": i}`; section i follows as
 * a u32 LE length and its bytes. Decoding checks the framing only; the secagg schemas and state
 * machines then check the content.
 */
const MAGIC = [0x46, 0x4c, 0x53, 0x41];
export const SECAGG_WIRE_VERSION = 1;
const PREFIX_BYTES = 9;
const MAX_DEPTH = 8;

/** Encodes a secagg message (plain object, binary fields as Uint8Array) to bytes. */
export function encodeSecAggMessage(message: object): Uint8Array {
  const sections: Uint8Array[] = [];
  const header = new TextEncoder().encode(
    JSON.stringify(message, (_key, value) => {
      if (value instanceof Uint8Array) {
        sections.push(value);
        return { $b: sections.length - 1 };
      }
      return value;
    }),
  );
  const total = PREFIX_BYTES + header.length + sections.reduce((n, s) => n + 4 + s.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[4] = SECAGG_WIRE_VERSION;
  view.setUint32(5, header.length, true);
  out.set(header, PREFIX_BYTES);
  let offset = PREFIX_BYTES + header.length;
  for (const section of sections) {
    view.setUint32(offset, section.length, true);
    out.set(section, offset + 4);
    offset += 4 + section.length;
  }
  return out;
}

function malformed(reason: string): FedlearnError {
  return new FedlearnError('MALFORMED_MESSAGE', `malformed secure aggregation payload: ${reason}`, {
    details: { reason },
  });
}

/**
 * Decodes bytes made by {@link encodeSecAggMessage}. Throws MALFORMED_MESSAGE for a bad magic or
 * version, a truncated or overlong payload, a header that is not JSON, or a binary placeholder
 * that is missing, repeated or out of range. The result still has to pass the message schemas.
 */
export function decodeSecAggMessage(bytes: Uint8Array): unknown {
  if (bytes.length < PREFIX_BYTES) throw malformed('shorter than its prefix');
  if (MAGIC.some((b, i) => bytes[i] !== b)) throw malformed('bad magic');
  if (bytes[4] !== SECAGG_WIRE_VERSION) throw malformed(`unsupported version ${bytes[4]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(5, true);
  if (headerLength > bytes.length - PREFIX_BYTES) throw malformed('header runs past the end');
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(9, 9 + headerLength)),
    );
  } catch {
    throw malformed('header is not UTF-8 JSON');
  }
  const sections: Uint8Array[] = [];
  for (let offset = PREFIX_BYTES + headerLength; offset < bytes.length; ) {
    if (bytes.length - offset < 4) throw malformed('truncated section length');
    const length = view.getUint32(offset, true);
    if (length > bytes.length - offset - 4) throw malformed('section runs past the end');
    sections.push(bytes.slice(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  const used = new Set<number>();
  const message = restore(header, sections, used, 0);
  if (used.size !== sections.length) throw malformed('unreferenced binary section');
  return message;
}

function restore(value: unknown, sections: Uint8Array[], used: Set<number>, depth: number): unknown {
  if (depth > MAX_DEPTH) throw malformed('nested too deeply');
  if (Array.isArray(value)) return value.map((item) => restore(item, sections, used, depth + 1));
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value);
  if (entries.length === 1 && entries[0]?.[0] === '$b') {
    const index = entries[0][1];
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= sections.length) {
      throw malformed('binary placeholder out of range');
    }
    if (used.has(index)) throw malformed('binary section referenced twice');
    used.add(index);
    return sections[index];
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of entries) {
    if (key === '__proto__') throw malformed('forbidden key __proto__');
    out[key] = restore(item, sections, used, depth + 1);
  }
  return out;
}
