import { createHash, timingSafeEqual } from 'node:crypto';
import { FedlearnError } from '@fedlearn/core';
import { createRemoteJWKSet, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { ServingConfig } from '../config.js';

/** Who is calling, as rate limits and logs name them (never the secret itself). */
export interface Principal {
  id: string;
  method: 'api-key' | 'jwt' | 'none';
}

/** One credential check for every protocol: REST and GraphQL headers, gRPC metadata, stream fields. */
export interface Authenticator {
  readonly enabled: boolean;
  /** Resolves the caller or throws UNAUTHORIZED. */
  authenticate(token: string | undefined): Promise<Principal>;
  /** The boolean form gRPC's `authenticate` option takes. */
  accepts(token: string | undefined): Promise<boolean>;
}

const ANONYMOUS: Principal = { id: 'anonymous', method: 'none' };

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function unauthorized(reason: string): FedlearnError {
  return new FedlearnError('UNAUTHORIZED', `unauthorized: ${reason}`);
}

/** Takes `Bearer <token>` or a bare token (as `x-api-key` or gRPC metadata carry it). */
export function tokenFromHeader(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(text.trim());
  return (match ? match[1]! : text).trim() || undefined;
}

/**
 * Builds the authenticator the configuration asks for. API keys are compared as SHA-256 digests in
 * constant time; JWTs are verified with jose (HS256 secret or a JWKS URL, issuer and audience).
 */
export function createAuthenticator(config: ServingConfig['auth']): Authenticator {
  if (config.mode === 'off') {
    return { enabled: false, authenticate: async () => ANONYMOUS, accepts: async () => true };
  }
  const keyDigests = config.apiKeys.map(digest);
  const jwtKey: Uint8Array | JWTVerifyGetKey | undefined =
    config.mode !== 'jwt'
      ? undefined
      : config.jwt.jwksUrl
        ? createRemoteJWKSet(new URL(config.jwt.jwksUrl))
        : new TextEncoder().encode(config.jwt.secret);
  const authenticate = async (token: string | undefined): Promise<Principal> => {
    if (!token) throw unauthorized('no credentials (send Authorization: Bearer <token> or x-api-key)');
    if (token.length > 8192) throw unauthorized('credentials too long');
    const presented = digest(token);
    if (keyDigests.some((d) => timingSafeEqual(d, presented))) {
      return { id: `key:${presented.subarray(0, 6).toString('hex')}`, method: 'api-key' };
    }
    if (jwtKey) {
      try {
        const { payload } = await jwtVerify(token, jwtKey as Uint8Array, {
          algorithms: config.jwt.jwksUrl ? ['RS256', 'ES256', 'EdDSA'] : ['HS256'],
          ...(config.jwt.issuer ? { issuer: config.jwt.issuer } : {}),
          ...(config.jwt.audience ? { audience: config.jwt.audience } : {}),
        });
        return { id: `jwt:${String(payload.sub ?? 'unknown').slice(0, 128)}`, method: 'jwt' };
      } catch {
        throw unauthorized('the token is not valid');
      }
    }
    throw unauthorized('unknown API key');
  };
  return {
    enabled: true,
    authenticate,
    accepts: (token) =>
      authenticate(token).then(
        () => true,
        () => false,
      ),
  };
}
