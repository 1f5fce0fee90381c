import { FedlearnError } from '@fedlearn/core';

/**
 * OpenSSL's verification failures, as Node reports them in `error.code`: each means "this
 * certificate does not lead to a CA we trust" (or names another host), which no retry can fix.
 */
const UNTRUSTED_CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The TLS verification code hidden in a socket.io connect error (engine.io wraps the ws error). */
function certificateErrorCode(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  // engine.io's TransportError → `description` (ws ErrorEvent) → `error` → `cause`, a few levels at most.
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    if (seen.has(current)) break;
    seen.add(current);
    const { code, description, error: inner, cause } = current as Record<string, unknown>;
    if (typeof code === 'string' && UNTRUSTED_CERTIFICATE_CODES.has(code)) return code;
    current = description ?? inner ?? cause;
  }
  return undefined;
}

/** A `TLS_CERT_UNTRUSTED` error saying how to fix it, when `error` is a certificate failure. */
export function untrustedCertificateError(error: unknown, serverUrl: string): FedlearnError | undefined {
  const code = certificateErrorCode(error);
  if (code === undefined) return undefined;
  return new FedlearnError(
    'TLS_CERT_UNTRUSTED',
    `the coordinator's TLS certificate at ${serverUrl} is not trusted (${code}): pass the CA certificate ` +
      'that signed it with --ca FILE (the `ca` option of FederatedClient), or use a certificate from a public CA',
    { details: { reason: code } },
  );
}
