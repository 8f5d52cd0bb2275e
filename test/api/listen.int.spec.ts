// The API through a real listening socket (port 0) and fetch: what inject() cannot show — real HTTP
// framing, headers on the wire, and a body over the limit refused by the server itself.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHarness, type ApiHarness } from './apiHarness.js';

let h: ApiHarness;
let base: string;

beforeAll(async () => {
  h = await createApiHarness({ devAuth: true });
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => h?.close());

const json = (token: string | null, body?: unknown): RequestInit => ({
  method: body === undefined ? 'GET' : 'POST',
  headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

describe('API over a listening socket', () => {
  it('logs in with a dev token, sends, and reads the message back', async () => {
    const login = await fetch(`${base}/v1/dev/token`, json(null, { userId: 'wire-a' }));
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };

    const group = await fetch(`${base}/v1/groups`, json(token, { name: 'wire', memberIds: ['wire-b'] }));
    expect(group.status).toBe(201);
    expect(group.headers.get('x-request-id')).toBeTruthy();
    const { conversationId } = (await group.json()) as { conversationId: string };

    const sent = await fetch(`${base}/v1/conversations/${conversationId}/messages`, json(token, { clientMsgId: 'w-1', kind: 'text', body: { text: 'over the wire' } }));
    expect(sent.status).toBe(201);
    await h.settle();
    const history = await fetch(`${base}/v1/conversations/${conversationId}/messages`, json(token));
    expect(history.status).toBe(200);
    const page = (await history.json()) as { items: Array<{ body?: { text?: string } }> };
    expect(page.items.at(-1)?.body?.text).toBe('over the wire');
  });

  it('answers problems with their content type and keeps a sane caller request id', async () => {
    const response = await fetch(`${base}/v1/unread`, { headers: { 'x-request-id': 'trace-123' } });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.headers.get('x-request-id')).toBe('trace-123');
    expect(((await response.json()) as { code: string }).code).toBe('unauthorized');
  });

  it('refuses a body over the limit with 413 payload_too_large', async () => {
    const token = await h.tokenFor('wire-a');
    const huge = { clientMsgId: 'w-2', kind: 'text', body: { text: 'x'.repeat(200 * 1024) } };
    const response = await fetch(`${base}/v1/conversations/00000000-0000-7000-8000-000000000000/messages`, json(token, huge));
    expect(response.status).toBe(413);
    expect(((await response.json()) as { code: string }).code).toBe('payload_too_large');
  });
});
