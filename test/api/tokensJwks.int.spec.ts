// Tokens from an identity provider's JWKS endpoint (a real local HTTP server): keys are found by kid,
// an unknown kid is the client's problem (401), an unreachable endpoint is ours (auth_unavailable).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { AuthError, AuthUnavailableError, createTokenService } from '../../src/auth/tokens.js';

let server: http.Server;
let jwksUrl: string;
let signingKey: CryptoKey;
let strangerKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  signingKey = pair.privateKey;
  strangerKey = (await generateKeyPair('ES256')).privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
});
afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

const sign = (key: CryptoKey, kid: string) =>
  new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid })
    .setSubject('carol')
    .setIssuer('idp')
    .setAudience('missive')
    .setExpirationTime(Math.floor(Date.now() / 1000) + 60)
    .sign(key);

describe('token service with a JWKS endpoint', () => {
  it('verifies a token signed by a published key', async () => {
    const tokens = createTokenService({ jwksUrl, issuer: 'idp', audience: 'missive' });
    expect(await tokens.verify(await sign(signingKey, 'k1'))).toMatchObject({ userId: 'carol', admin: false });
  });

  it('refuses a token whose kid is not published, or that another key signed under a published kid', async () => {
    const tokens = createTokenService({ jwksUrl, issuer: 'idp', audience: 'missive' });
    for (const token of [await sign(signingKey, 'unknown'), await sign(strangerKey, 'k1')]) {
      const error = await tokens.verify(token).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthError);
      expect((error as AuthError).code).toBe('unauthorized');
    }
  });

  it('reports an unreachable key endpoint as auth_unavailable, not as the client fault', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const tokens = createTokenService({ jwksUrl: `http://127.0.0.1:${port}/jwks`, issuer: 'idp', audience: 'missive' });
    const error = await tokens.verify(await sign(signingKey, 'k1')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthUnavailableError);
  });
});
