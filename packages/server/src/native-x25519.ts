import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import type { X25519 } from '@fedlearn/core';

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

/**
 * Node's native X25519 for the secure-aggregation server, several times faster than the portable
 * one when rebuilding dropped clients' masks. Key objects are cached per key because a dropped
 * client's key meets every one of its surviving neighbours' keys; use one instance per round.
 *
 * @example
 * createSecAggServerRound(config, ids, { round, randomBytes, x25519: nativeX25519() });
 */
export function nativeX25519(): X25519 {
  const secrets = new Map<string, KeyObject>();
  const publics = new Map<string, KeyObject>();
  const cached = (map: Map<string, KeyObject>, bytes: Uint8Array, make: (b: Buffer) => KeyObject) => {
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const key = b.toString('hex');
    let value = map.get(key);
    if (value === undefined) {
      value = make(b);
      map.set(key, value);
    }
    return value;
  };
  const secret = (b: Buffer) =>
    createPrivateKey({ key: Buffer.concat([PKCS8_X25519, b]), format: 'der', type: 'pkcs8' });
  const pub = (b: Buffer) =>
    createPublicKey({ key: Buffer.concat([SPKI_X25519, b]), format: 'der', type: 'spki' });
  return (secretKey, publicKey) =>
    new Uint8Array(
      diffieHellman({
        privateKey: cached(secrets, secretKey, secret),
        publicKey: cached(publics, publicKey, pub),
      }),
    );
}
