// Authentication through HTTP: every failure is a 401 problem with a stable code (and nothing else
// about the route leaks), admin routes need the admin claim, and the dev login exists only when on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHarness, JWT, problemOf, signToken, type ApiHarness } from './apiHarness.js';

describe('API authentication', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await createApiHarness({ devAuth: true });
  });
  afterAll(async () => h?.close());

  const now = () => Math.floor(Date.now() / 1000);

  it.each([
    ['no Authorization header', async () => ({})],
    ['a non-bearer scheme', async () => ({ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` })],
    ['a bad signature', async () => ({ authorization: `Bearer ${await signToken({ sub: 'alice' }, 'not-the-secret-0123456789abcdef')}` })],
    ['a wrong issuer', async () => ({ authorization: `Bearer ${await signToken({ sub: 'alice', iss: 'elsewhere' })}` })],
    ['a wrong audience', async () => ({ authorization: `Bearer ${await signToken({ sub: 'alice', aud: 'another-api' })}` })],
    ['an invalid user id as subject', async () => ({ authorization: `Bearer ${await signToken({ sub: 'no spaces allowed' })}` })],
    ['garbage', async () => ({ authorization: 'Bearer not.a.jwt' })],
  ])('answers %s with 401 unauthorized', async (_label, headers) => {
    const response = await h.request('GET', '/v1/unread', { headers: await headers() });
    expect(response.statusCode).toBe(401);
    expect(problemOf(response)).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('answers an expired token with 401 token_expired', async () => {
    const expired = await signToken({ sub: 'alice', exp: now() - 10 });
    const response = await h.request('GET', '/v1/unread', { token: expired });
    expect(response.statusCode).toBe(401);
    expect(problemOf(response).code).toBe('token_expired');
  });

  it('authenticates before validating: an anonymous bad request is a 401, not a 400', async () => {
    const response = await h.request('POST', '/v1/groups', { body: { bogus: true } });
    expect(response.statusCode).toBe(401);
  });

  it('lets a valid token through', async () => {
    const response = await h.request('GET', '/v1/unread', { token: await signToken({ sub: 'alice' }) });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ total: 0, conversations: [], tiers: ['warm'] });
  });

  it('keeps admin routes for admin tokens (403 forbidden otherwise)', async () => {
    const user = await h.request('GET', '/v1/admin/projections', { as: 'alice' });
    expect(user.statusCode).toBe(403);
    expect(problemOf(user).code).toBe('forbidden');
    const admin = await h.request('GET', '/v1/admin/projections', { token: await h.tokenFor('ops', { admin: true }) });
    expect(admin.statusCode).toBe(200);
    const names = (admin.json().items as Array<{ name: string; checkpoint: string }>).map((s) => s.name).sort();
    expect(names).toEqual(['inbox', 'membership', 'sessions', 'timeline']);
    expect(typeof admin.json().items[0].checkpoint).toBe('string');
  });

  it('issues dev tokens that the API accepts', async () => {
    const issued = await h.request('POST', '/v1/dev/token', { body: { userId: 'dave' } });
    expect(issued.statusCode).toBe(200);
    expect(issued.json()).toMatchObject({ tokenType: 'Bearer', expiresIn: 3600 });
    const me = await h.request('GET', '/v1/conversations', { token: issued.json().token });
    expect(me.statusCode).toBe(200);
    const bad = await h.request('POST', '/v1/dev/token', { body: { userId: 'not valid' } });
    expect(problemOf(bad)).toMatchObject({ status: 400, code: 'validation_failed' });
  });

  it('uses the configured issuer and audience for dev tokens', async () => {
    const issued = await h.request('POST', '/v1/dev/token', { body: { userId: 'erin', admin: true } });
    const payload = JSON.parse(Buffer.from(issued.json().token.split('.')[1], 'base64url').toString());
    expect(payload).toMatchObject({ sub: 'erin', iss: JWT.issuer, aud: JWT.audience, admin: true });
  });
});

describe('API without the dev login', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await createApiHarness({ devAuth: false });
  });
  afterAll(async () => h?.close());

  it('answers POST /v1/dev/token with the same 404 as any unknown route', async () => {
    const dev = await h.request('POST', '/v1/dev/token', { body: { userId: 'dave' } });
    const unknown = await h.request('POST', '/v1/dev/nothing', { body: { userId: 'dave' } });
    expect(dev.statusCode).toBe(404);
    expect(problemOf(dev).code).toBe('not_found');
    expect(problemOf(unknown).code).toBe('not_found');
    const openapi = await h.request('GET', '/openapi.json');
    expect(Object.keys(openapi.json().paths)).not.toContain('/v1/dev/token');
  });
});
