// The operational surface: the OpenAPI document lists every route with its security and problem
// answers, /metrics exposes the histograms and the projection lag, /healthz and /readyz tell liveness
// from readiness, the rate limit is per user, and an unreachable event store answers 503 + Retry-After.
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayMetrics } from '../../src/gateway/metrics.js';
import { createPostgresEventStore } from '../../src/store/postgres/postgresEventStore.js';
import { createApiHarness, problemOf, type ApiHarness } from './apiHarness.js';

const text = (clientMsgId: string, t: string) => ({ clientMsgId, kind: 'text', body: { text: t } });

const V1_OPERATIONS = [
  'POST /v1/conversations/direct',
  'GET /v1/conversations',
  'POST /v1/conversations/{id}/read',
  'PATCH /v1/conversations/{id}/settings',
  'POST /v1/conversations/{id}/messages',
  'GET /v1/conversations/{id}/messages',
  'PATCH /v1/conversations/{id}/messages/{messageId}',
  'DELETE /v1/conversations/{id}/messages/{messageId}',
  'POST /v1/groups',
  'PATCH /v1/groups/{id}',
  'DELETE /v1/groups/{id}',
  'POST /v1/groups/{id}/members',
  'DELETE /v1/groups/{id}/members/{userId}',
  'PUT /v1/groups/{id}/members/{userId}/role',
  'POST /v1/groups/{id}/leave',
  'GET /v1/sync',
  'GET /v1/unread',
  'GET /v1/presence',
  'GET /v1/admin/projections',
];
const PUBLIC_OPERATIONS = ['POST /v1/dev/token', 'GET /healthz', 'GET /readyz', 'GET /metrics'];

interface Operation {
  security?: unknown[];
  responses: Record<string, { content?: Record<string, unknown> }>;
  requestBody?: { content: { 'application/json': { schema: { additionalProperties?: boolean } } } };
  parameters?: Array<{ in: string; name: string }>;
}

describe('API documentation and metrics', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await createApiHarness({ devAuth: true });
  });
  afterAll(async () => h?.close());

  it('documents every route in OpenAPI 3, with bearer security and problem answers', async () => {
    const response = await h.request('GET', '/openapi.json');
    expect(response.statusCode).toBe(200);
    const doc = response.json() as { openapi: string; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, unknown> } };
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes.bearerAuth).toEqual({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual([...V1_OPERATIONS, ...PUBLIC_OPERATIONS].sort());

    for (const id of [...V1_OPERATIONS, ...PUBLIC_OPERATIONS]) {
      const [method, path] = id.split(' ') as [string, string];
      const op = doc.paths[path]![method.toLowerCase()]!;
      expect(h.app.hasRoute({ method: method as 'GET', url: path.replace(/\{(\w+)\}/g, ':$1') }), id).toBe(true);
      expect(op.responses['4XX']?.content?.['application/problem+json'], id).toBeDefined();
      if (V1_OPERATIONS.includes(id)) expect(op.security, id).toEqual([{ bearerAuth: [] }]);
      else expect(op.security, id).toBeUndefined();
      if (op.requestBody) expect(op.requestBody.content['application/json'].schema.additionalProperties, id).toBe(false);
    }
    const history = doc.paths['/v1/conversations/{id}/messages']!.get!;
    expect(history.parameters!.map((p) => `${p.in}:${p.name}`).sort()).toEqual(['path:id', 'query:after', 'query:before', 'query:limit']);
  });

  it('serves the docs page', async () => {
    const page = await h.request('GET', '/docs/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
  });

  it('exposes request and send histograms, projection lag, and metrics others register in the shared registry', async () => {
    const group = (await h.request('POST', '/v1/groups', { as: 'kai', body: { name: 'm', memberIds: [] } })).json().conversationId;
    await h.request('POST', `/v1/conversations/${group}/messages`, { as: 'kai', body: text('m-1', 'measured') });
    createGatewayMetrics(h.app.metricsRegistry, { sockets: () => 3, users: () => 2 });

    const metrics = await h.request('GET', '/metrics');
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    const body = metrics.body;
    expect(body).toMatch(/^missive_http_request_duration_seconds_bucket\{le="[^"]+",method="POST",route="\/v1\/conversations\/:id\/messages",status_code="201"\} 1$/m);
    expect(body).toMatch(/^missive_send_latency_seconds_count\{outcome="accepted"\} 1$/m);
    expect(body).toMatch(/^missive_projection_lag_events\{projection="inbox"\} \d+$/m);
    expect(body).toMatch(/^missive_projection_lag_seconds\{projection="timeline"\} [\d.]+$/m);
    expect(body).toMatch(/^missive_gateway_open_sockets 3$/m);
  });

  it('is alive and ready when the store answers and projections are caught up', async () => {
    await h.settle();
    expect((await h.request('GET', '/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await h.request('GET', '/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', checks: { eventStore: { ok: true }, projections: { ok: true } } });
  });
});

describe('tight limits', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await createApiHarness({ options: { rateLimitMax: 3, rateLimitWindowMs: 60_000, readyMaxLagEvents: 0 } });
  });
  afterAll(async () => h?.close());

  it('limits each user on their own budget, with 429 rate_limited and Retry-After', async () => {
    for (let i = 0; i < 3; i++) expect((await h.request('GET', '/v1/unread', { as: 'lea' })).statusCode).toBe(200);
    const limited = await h.request('GET', '/v1/unread', { as: 'lea' });
    expect(limited.statusCode).toBe(429);
    expect(problemOf(limited).code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await h.request('GET', '/v1/unread', { as: 'max' })).statusCode).toBe(200);
    expect((await h.request('GET', '/healthz')).statusCode).toBe(200);
  });

  it('is not ready while a projection is behind, and ready once it caught up', async () => {
    const before = await h.store.headPosition();
    expect((await h.request('POST', '/v1/groups', { as: 'ned', body: { name: 'lag', memberIds: [] } })).statusCode).toBe(201);
    // The head shows an append only once no older transaction is open anywhere in the cluster (DESIGN.md §10).
    for (const deadline = Date.now() + 10_000; (await h.store.headPosition()) === before && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const behind = await h.request('GET', '/readyz');
    expect(behind.statusCode).toBe(503);
    expect(behind.json()).toMatchObject({ status: 'not_ready', checks: { eventStore: { ok: true }, projections: { ok: false, detail: expect.stringMatching(/behind/) } } });
    await h.settle();
    expect((await h.request('GET', '/readyz')).statusCode).toBe(200);
  });
});

describe('with the event store unreachable', () => {
  let h: ApiHarness;
  const deadPool = new pg.Pool({ connectionString: 'postgres://missive@127.0.0.1:1/missive', connectionTimeoutMillis: 1_000 });
  const logLines: Array<Record<string, unknown>> = [];
  beforeAll(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line)) });
    h = await createApiHarness({ store: createPostgresEventStore({ pool: deadPool, notify: false }), logger });
  });
  afterAll(async () => {
    await h?.close();
    await deadPool.end();
  });

  it('answers commands with 503 store_unavailable and Retry-After, without internals', async () => {
    const response = await h.request('POST', '/v1/conversations/direct', { as: 'otto', body: { peerId: 'pia' } });
    expect(response.statusCode).toBe(503);
    expect(problemOf(response).code).toBe('store_unavailable');
    expect(response.headers['retry-after']).toBe('1');
    expect(response.body).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
  });

  it('answers a broken read model with 500 internal_error, logging the cause on our side only', async () => {
    await h.db.pool.query('DROP SCHEMA proj_sessions CASCADE');
    const response = await h.request('GET', '/v1/unread', { as: 'otto' });
    expect(response.statusCode).toBe(500);
    expect(problemOf(response)).toMatchObject({ code: 'internal_error', detail: 'Internal error' });
    expect(response.body).not.toMatch(/proj_sessions|relation|stack|\.ts/);
    const logged = logLines.find((l) => l.reqId === response.headers['x-request-id'] && l.msg === 'request failed');
    expect(JSON.stringify(logged)).toMatch(/proj_sessions/);
  });

  it('is alive but not ready', async () => {
    expect((await h.request('GET', '/healthz')).statusCode).toBe(200);
    const ready = await h.request('GET', '/readyz');
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ status: 'not_ready', checks: { eventStore: { ok: false } } });
  });
});
