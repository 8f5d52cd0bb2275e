// The API through a real listening socket (port 0) and fetch: what inject() cannot show — real HTTP
// framing, headers on the wire, and a body over the limit refused by the server itself.
import net, { type AddressInfo } from 'node:net';
import { MAX_SYNC_TOKEN_LENGTH } from '../../src/api/syncToken.js';
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

  it('takes the longest sync token the schema allows in the query (a refusal by the route, not by the HTTP parser)', async () => {
    const token = await h.tokenFor('wire-a');
    const response = await fetch(`${base}/v1/sync?since=${'A'.repeat(MAX_SYNC_TOKEN_LENGTH)}`, json(token));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: string }).code).toBe('invalid_sync_token');
  });

  it('answers headers over the limit, and bytes that are not HTTP, with problem+json from the HTTP layer', async () => {
    const oversized = await rawExchange(`GET /v1/unread HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(40 * 1024)}\r\n\r\n`);
    expect(oversized).toMatch(/^HTTP\/1\.1 431 /);
    expect(oversized).toMatch(/content-type: application\/problem\+json/i);
    expect(JSON.parse(oversized.slice(oversized.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 431, code: 'headers_too_large' });
    const garbage = await rawExchange('NOT HTTP AT ALL\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(garbage.slice(garbage.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 400, code: 'validation_failed' });
  });
});

/** Writes raw bytes to the server and collects everything it answers until it closes. */
function rawExchange(request: string): Promise<string> {
  const { port } = h.app.server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}
