import { sha256 } from '@noble/hashes/sha2.js';

/** An incremental SHA-256: Node's `crypto.Hash` and noble's hash both have this shape. */
export interface Sha256State {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
}

type NodeCrypto = { createHash(algorithm: 'sha256'): Sha256State };

/**
 * Node's own SHA-256 when the runtime has it: it runs 10-20 times faster than the JS one, which
 * matters for models of hundreds of MB (each is hashed by the codec and by its transfer). Looked up
 * through `process.getBuiltinModule`, so bundles for browsers never import `node:crypto`.
 */
const nodeCrypto: NodeCrypto | undefined = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;

/** Starts an incremental SHA-256 (Node's where available, else @noble/hashes). */
export function createSha256(): Sha256State {
  return nodeCrypto ? nodeCrypto.createHash('sha256') : sha256.create();
}

/** SHA-256 of `data` as a plain Uint8Array (Node's digest is a Buffer). */
export function sha256Of(data: Uint8Array): Uint8Array {
  const hash = createSha256();
  hash.update(data);
  return new Uint8Array(hash.digest());
}

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}
