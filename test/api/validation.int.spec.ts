// Bad input through HTTP: every malformed request gets a 4xx problem with a stable code and changes
// nothing (the event store's head does not move). Unknown fields are refused, never silently dropped;
// bodies are taken as sent (no "5" for 5).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHarness, problemOf, type ApiHarness } from './apiHarness.js';

let h: ApiHarness;
let conversationId: string;
let messageId: string;

beforeAll(async () => {
  h = await createApiHarness();
  conversationId = (await h.request('POST', '/v1/groups', { as: 'ivy', body: { name: 'v', memberIds: ['jon'] } })).json().conversationId;
  messageId = (await h.request('POST', `/v1/conversations/${conversationId}/messages`, { as: 'ivy', body: { clientMsgId: 'v-0', kind: 'text', body: { text: 'x' } } })).json()
    .messageId;
});
afterAll(async () => h?.close());

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
interface BadRequest {
  method: Method;
  url: () => string;
  body?: unknown;
  payload?: string;
  contentType?: string;
  headers?: Record<string, string>;
  status: number;
  code: string;
}

const messages = () => `/v1/conversations/${conversationId}/messages`;
const valid = { clientMsgId: 'v-1', kind: 'text', body: { text: 'hi' } };

const cases: Record<string, BadRequest> = {
  'an unknown body field': { method: 'POST', url: messages, body: { ...valid, priority: 'high' }, status: 400, code: 'validation_failed' },
  'an unknown nested-level field in a closed body': { method: 'POST', url: () => '/v1/groups', body: { name: 'g', memberIds: [], owner: 'me' }, status: 400, code: 'validation_failed' },
  'an unknown query parameter': { method: 'GET', url: () => `${messages()}?limit=5&sort=desc`, status: 400, code: 'validation_failed' },
  'a missing required field': { method: 'POST', url: messages, body: { kind: 'text', body: { text: 'hi' } }, status: 400, code: 'validation_failed' },
  'a number sent as a string': { method: 'POST', url: () => `/v1/conversations/${conversationId}/read`, body: { seq: '5' }, status: 400, code: 'validation_failed' },
  'a boolean sent as a string': { method: 'PATCH', url: () => `/v1/conversations/${conversationId}/settings`, body: { muted: 'true' }, status: 400, code: 'validation_failed' },
  'an empty settings change': { method: 'PATCH', url: () => `/v1/conversations/${conversationId}/settings`, body: {}, status: 400, code: 'validation_failed' },
  'a conversation id that is not a UUID': { method: 'POST', url: () => '/v1/conversations/123/messages', body: valid, status: 400, code: 'validation_failed' },
  'an upper-case UUID': { method: 'POST', url: () => `/v1/conversations/${conversationId.toUpperCase()}/messages`, body: valid, status: 400, code: 'validation_failed' },
  'a message id that is not a UUID': { method: 'DELETE', url: () => `${messages()}/nope`, status: 400, code: 'validation_failed' },
  'a user id with a space': { method: 'POST', url: () => '/v1/conversations/direct', body: { peerId: 'bad id' }, status: 400, code: 'validation_failed' },
  'a user id in the path that is too long': { method: 'DELETE', url: () => `/v1/groups/${conversationId}/members/${'u'.repeat(65)}`, status: 400, code: 'validation_failed' },
  // Longer than the router's maxParamLength (100): refused before the schema runs (was a 500, found by the fuzzer).
  'a path id longer than any id': { method: 'DELETE', url: () => `/v1/groups/${'x'.repeat(300)}`, status: 400, code: 'validation_failed' },
  'an unknown message kind': { method: 'POST', url: messages, body: { ...valid, kind: 'video' }, status: 400, code: 'validation_failed' },
  'a body that is an array': { method: 'POST', url: messages, body: { ...valid, body: ['hi'] }, status: 400, code: 'validation_failed' },
  'a text message without text (the domain decides)': { method: 'POST', url: messages, body: { ...valid, body: { caption: 'hi' } }, status: 400, code: 'invalid_body' },
  'a fractional seq in the query': { method: 'GET', url: () => `${messages()}?before=1.5`, status: 400, code: 'validation_failed' },
  'a hexadecimal limit': { method: 'GET', url: () => `${messages()}?limit=0x10`, status: 400, code: 'validation_failed' },
  'a repeated query parameter': { method: 'GET', url: () => `${messages()}?limit=1&limit=2`, status: 400, code: 'validation_failed' },
  'an empty query value': { method: 'GET', url: () => `${messages()}?before=`, status: 400, code: 'validation_failed' },
  'a limit out of range': { method: 'GET', url: () => `${messages()}?limit=100000`, status: 400, code: 'validation_failed' },
  'a role that does not exist': { method: 'PUT', url: () => `/v1/groups/${conversationId}/members/jon/role`, body: { role: 'king' }, status: 400, code: 'validation_failed' },
  'duplicate user ids': { method: 'POST', url: () => `/v1/groups/${conversationId}/members`, body: { userIds: ['kim', 'kim'] }, status: 400, code: 'validation_failed' },
  // TypeBox's uniqueItems check recursed through it and overflowed the stack: a 500 (found by the fuzzer).
  'a value nested 20,000 levels deep': {
    method: 'POST',
    url: () => `/v1/groups/${conversationId}/members`,
    payload: `{"userIds":[${'['.repeat(20_000)}"x"${']'.repeat(20_000)}]}`,
    contentType: 'application/json',
    status: 400,
    code: 'validation_failed',
  },
  'malformed JSON': { method: 'POST', url: messages, payload: '{"clientMsgId": ', contentType: 'application/json', status: 400, code: 'validation_failed' },
  'a prototype-poisoning body': { method: 'POST', url: messages, payload: '{"__proto__": {"admin": true}, "clientMsgId": "p", "kind": "text", "body": {"text": "x"}}', contentType: 'application/json', status: 400, code: 'validation_failed' },
  'a text/plain body': { method: 'POST', url: messages, payload: 'hello', contentType: 'text/plain', status: 415, code: 'unsupported_media_type' },
  'a body over the request size limit': { method: 'POST', url: messages, body: { ...valid, body: { text: 'x'.repeat(70 * 1024) } }, status: 413, code: 'payload_too_large' },
  'a message body over the domain limit': { method: 'POST', url: messages, body: { ...valid, body: { text: 'x'.repeat(20 * 1024) } }, status: 413, code: 'body_too_large' },
  'a NUL character PostgreSQL cannot store': { method: 'POST', url: messages, body: { ...valid, body: { text: 'a\u0000b' } }, status: 400, code: 'validation_failed' },
  'an invalid device id header': { method: 'POST', url: () => `/v1/conversations/${conversationId}/read`, body: { seq: 1 }, headers: { 'x-device-id': 'has space' }, status: 400, code: 'validation_failed' },
};

describe('bad input', () => {
  it.each(Object.entries(cases))('refuses %s with a problem and appends nothing', async (_label, c) => {
    const before = await h.settledHead();
    const token = await h.tokenFor('ivy');
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...c.headers };
    if (c.contentType) headers['content-type'] = c.contentType;
    const response = await h.app.inject({ method: c.method, url: c.url(), headers, ...(c.payload !== undefined ? { payload: c.payload } : c.body !== undefined ? { payload: c.body as object } : {}) });
    expect(response.statusCode, response.body).toBe(c.status);
    const problem = problemOf(response);
    expect(problem).toMatchObject({ status: c.status, code: c.code, type: `urn:missive:problem:${c.code}` });
    expect(problem.title).toEqual(expect.any(String));
    expect(problem.detail).toEqual(expect.any(String));
    expect(response.body).not.toMatch(/at .*\.(ts|js):\d+/);
    expect(await h.settledHead()).toBe(before);
  });

  it('says where the problem is', async () => {
    const response = await h.request('POST', messages(), { as: 'ivy', body: { ...valid, priority: 'high' } });
    expect(problemOf(response).errors).toEqual([{ path: 'body/priority', message: expect.any(String) }]);
  });

  it('still accepts the well-formed request afterwards', async () => {
    const sent = await h.request('POST', messages(), { as: 'ivy', body: valid });
    expect(sent.statusCode).toBe(201);
    expect(messageId).not.toBe(sent.json().messageId);
  });

  it('answers a method a known path does not take with 405 and the methods it takes in Allow', async () => {
    // QUERY: Fastify knows no route for it and fails it early (no content type): still a 405.
    for (const method of ['PUT', 'DELETE', 'TRACE', 'QUERY'] as const) {
      const response = await h.app.inject({ method, url: `${messages()}?x=1`, headers: { authorization: `Bearer ${await h.tokenFor('ivy')}` } });
      expect(problemOf(response), method).toMatchObject({ status: 405, code: 'method_not_allowed' });
      expect(response.headers.allow, method).toBe('GET, HEAD, POST');
    }
    const deleteOnly = await h.request('POST', `/v1/groups/${conversationId}/members/jon`, { as: 'ivy', body: {} });
    expect(deleteOnly.statusCode).toBe(405);
    expect(deleteOnly.headers.allow).toBe('DELETE');
  });

  it('answers unknown routes with a 404 problem', async () => {
    const response = await h.request('GET', '/v1/nothing-here', { as: 'ivy' });
    expect(problemOf(response)).toMatchObject({ status: 404, code: 'not_found' });
  });
});
