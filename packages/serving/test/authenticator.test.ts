import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuthenticator, tokenFromHeader } from '../src/auth/authenticator.js';
import { resolveServingConfig } from '../src/config.js';

const SECRET = 'a-serving-jwt-secret-of-at-least-32-chars';
const KEY = 'an-api-key-0123456789';

function auth(mode: 'api-key' | 'jwt') {
  return createAuthenticator(
    resolveServingConfig({
      auth: { mode, apiKeys: [KEY], jwt: { secret: SECRET, issuer: 'fedlearn', audience: 'serving' } },
    }).auth,
  );
}

const sign = (secret: string, claims: { iss?: string; aud?: string; exp?: number } = {}) =>
  new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('alice')
    .setIssuer(claims.iss ?? 'fedlearn')
    .setAudience(claims.aud ?? 'serving')
    .setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 600)
    .sign(new TextEncoder().encode(secret));

describe('authenticator', () => {
  it('accepts a configured API key and names the caller without the key', async () => {
    const principal = await auth('api-key').authenticate(KEY);
    expect(principal.method).toBe('api-key');
    expect(principal.id).not.toContain(KEY);
    await expect(auth('api-key').authenticate(`${KEY}x`)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(auth('api-key').authenticate(undefined)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('accepts a JWT signed with the secret, with the right issuer and audience', async () => {
    expect(await auth('jwt').authenticate(await sign(SECRET))).toEqual({ id: 'jwt:alice', method: 'jwt' });
  });

  it('refuses forged, unsigned, expired and misdirected JWTs (attacks that must not pass)', async () => {
    const a = auth('jwt');
    const unsigned = new UnsecuredJWT({ sub: 'mallory' })
      .setIssuer('fedlearn')
      .setAudience('serving')
      .encode();
    const attempts = [
      await sign('another-secret-that-is-32-chars-long!!'),
      unsigned,
      await sign(SECRET, { exp: Math.floor(Date.now() / 1000) - 60 }),
      await sign(SECRET, { iss: 'someone-else' }),
      await sign(SECRET, { aud: 'another-service' }),
    ];
    for (const token of attempts) expect(await a.accepts(token)).toBe(false);
  });

  it('reads Bearer and bare tokens', () => {
    expect(tokenFromHeader('Bearer abc')).toBe('abc');
    expect(tokenFromHeader('abc')).toBe('abc');
    expect(tokenFromHeader(undefined)).toBeUndefined();
  });

  it('refuses a configuration that asks for auth without credentials', () => {
    expect(() => resolveServingConfig({ auth: { mode: 'api-key' } })).toThrow(
      /auth\.apiKeys: api-key auth needs at least one key/,
    );
    expect(() => resolveServingConfig({ auth: { mode: 'jwt' } })).toThrow(/auth\.jwt/);
  });
});
