// The token service (src/auth/tokens.ts): what a valid token is, and the typed errors for the rest.
import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { AuthError, createTokenService, TokenIssueError } from '../../src/auth/tokens.js';

const SETTINGS = { secret: 'unit-test-secret-0123456789abcdef', issuer: 'iss-a', audience: 'aud-a' };
const now = () => Math.floor(Date.now() / 1000);

function hsToken(claims: Record<string, unknown>, options: { sub?: string; iss?: string; aud?: string; exp?: number; alg?: string; secret?: string } = {}) {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256' })
    .setIssuer(options.iss ?? SETTINGS.issuer)
    .setAudience(options.aud ?? SETTINGS.audience)
    .setExpirationTime(options.exp ?? now() + 60);
  if (options.sub !== '') jwt.setSubject(options.sub ?? 'alice');
  return jwt.sign(new TextEncoder().encode(options.secret ?? SETTINGS.secret));
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AuthError || error instanceof TokenIssueError) return error.code;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('token service with a shared secret', () => {
  const tokens = createTokenService(SETTINGS);

  it('verifies the tokens it issues, with the user, the admin claim and the expiry', async () => {
    const before = Date.now();
    const user = await tokens.verify(await tokens.issue('alice', { ttlSeconds: 120 }));
    expect(user).toMatchObject({ userId: 'alice', admin: false });
    expect(user.expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 119_000);
    expect(user.expiresAt).toBeLessThanOrEqual(before + 121_000);
    expect(await tokens.verify(await tokens.issue('ops@example.com', { admin: true }))).toMatchObject({ userId: 'ops@example.com', admin: true });
  });

  it('refuses a wrong signature, issuer or audience as unauthorized', async () => {
    expect(await failure(tokens.verify(await hsToken({}, { secret: 'another-secret-0123456789abcdef' })))).toBe('unauthorized');
    expect(await failure(tokens.verify(await hsToken({}, { iss: 'someone-else' })))).toBe('unauthorized');
    expect(await failure(tokens.verify(await hsToken({}, { aud: 'another-service' })))).toBe('unauthorized');
  });

  it('tells an expired token apart (token_expired)', async () => {
    expect(await failure(tokens.verify(await hsToken({}, { exp: now() - 5 })))).toBe('token_expired');
  });

  it('refuses a token it verified before once that token has expired (the verified-token cache honours exp)', async () => {
    const token = await hsToken({}, { exp: now() + 1 });
    expect(await tokens.verify(token)).toMatchObject({ userId: 'alice' });
    expect(await tokens.verify(token)).toMatchObject({ userId: 'alice' });
    await new Promise((resolve) => setTimeout(resolve, (now() + 2) * 1000 - Date.now()));
    expect(await failure(tokens.verify(token))).toBe('token_expired');
  });

  it('never lets a cached token vouch for another with the same claims but a bad signature', async () => {
    const good = await hsToken({}, { exp: now() + 60 });
    await tokens.verify(good);
    const [header, payload] = good.split('.');
    expect(await failure(tokens.verify(`${header}.${payload}.${'A'.repeat(43)}`))).toBe('unauthorized');
  });

  it('refuses tokens without a valid user id as subject, without exp, or with an admin claim that is not `true`', async () => {
    expect(await failure(tokens.verify(await hsToken({}, { sub: '' })))).toBe('unauthorized');
    expect(await failure(tokens.verify(await hsToken({}, { sub: 'has space' })))).toBe('unauthorized');
    expect(await failure(tokens.verify(await hsToken({}, { sub: 'x'.repeat(65) })))).toBe('unauthorized');
    const noExp = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuer(SETTINGS.issuer).setAudience(SETTINGS.audience).sign(new TextEncoder().encode(SETTINGS.secret));
    expect(await failure(tokens.verify(noExp))).toBe('unauthorized');
    expect(await tokens.verify(await hsToken({ admin: 'true' }))).toMatchObject({ admin: false });
  });

  it('accepts only the pinned algorithms (no HS512 when HS256 is pinned, no `none`)', async () => {
    expect(await failure(tokens.verify(await hsToken({}, { alg: 'HS512' })))).toBe('unauthorized');
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: 'alice', iss: SETTINGS.issuer, aud: SETTINGS.audience, exp: now() + 60 })).toString('base64url');
    expect(await failure(tokens.verify(`${header}.${payload}.`))).toBe('unauthorized');
  });

  it('answers garbage with unauthorized, never with an untyped error', async () => {
    for (const garbage of ['', 'abc', 'a.b.c', '..', `${'x'.repeat(10_000)}.y.z`]) expect(await failure(tokens.verify(garbage))).toBe('unauthorized');
  });

  it('refuses to issue for an invalid user id or ttl', async () => {
    expect(await failure(tokens.issue('not valid'))).toBe('invalid_user_id');
    expect(await failure(tokens.issue('alice', { ttlSeconds: 0 }))).toBe('invalid_ttl');
  });
});

describe('token service with a public key', () => {
  it('verifies RS256 tokens, cannot issue, and refuses an HS256 token signed with the public key as secret', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const pem = await exportSPKI(publicKey);
    const tokens = createTokenService({ publicKey: pem, issuer: 'idp', audience: 'missive' });
    const signed = await new SignJWT({ admin: true })
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject('bob')
      .setIssuer('idp')
      .setAudience('missive')
      .setExpirationTime(now() + 60)
      .sign(privateKey);
    expect(await tokens.verify(signed)).toMatchObject({ userId: 'bob', admin: true });
    expect(await failure(tokens.issue('bob'))).toBe('dev_tokens_unavailable');
    // The classic algorithm confusion: the public key's bytes used as an HMAC secret.
    const confused = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('mallory')
      .setIssuer('idp')
      .setAudience('missive')
      .setExpirationTime(now() + 60)
      .sign(new TextEncoder().encode(pem));
    expect(await failure(tokens.verify(confused))).toBe('unauthorized');
    expect(createPublicKey(pem).asymmetricKeyType).toBe('rsa');
  });

  it('refuses settings with no key at all', () => {
    expect(() => createTokenService({ issuer: 'a', audience: 'b' })).toThrow(/secret, a public key or a JWKS URL/);
  });
});
