// Every conversation, group and message route through HTTP against the real command handler, event
// store and projections: happy paths, idempotent sends, and membership privacy (a conversation you are
// not in answers exactly like one that does not exist).
import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationStreamId } from '../../src/domain/streams.js';
import { createMemoryPresenceStore } from '../../src/gateway/presence.js';
import { createApiHarness, problemOf, type ApiHarness } from './apiHarness.js';

const text = (clientMsgId: string, t: string) => ({ clientMsgId, kind: 'text', body: { text: t } });

let h: ApiHarness;
const presence = createMemoryPresenceStore();

beforeAll(async () => {
  h = await createApiHarness({ presence });
});
afterAll(async () => h?.close());

async function createGroup(owner: string, memberIds: string[], name = 'team'): Promise<string> {
  const created = await h.request('POST', '/v1/groups', { as: owner, body: { name, memberIds } });
  expect(created.statusCode).toBe(201);
  return created.json().conversationId;
}

describe('direct conversations', () => {
  it('opens once (201) and answers later opens from either side with 200 and the same id', async () => {
    const first = await h.request('POST', '/v1/conversations/direct', { as: 'alice', body: { peerId: 'bob' } });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ kind: 'direct', peerId: 'bob', created: true });
    const again = await h.request('POST', '/v1/conversations/direct', { as: 'bob', body: { peerId: 'alice' } });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ conversationId: first.json().conversationId, kind: 'direct', peerId: 'alice', created: false });
  });

  it('refuses a conversation with yourself (invalid_peer)', async () => {
    const self = await h.request('POST', '/v1/conversations/direct', { as: 'alice', body: { peerId: 'alice' } });
    expect(problemOf(self)).toMatchObject({ status: 400, code: 'invalid_peer' });
  });
});

describe('messages', () => {
  let conversationId: string;
  beforeAll(async () => {
    conversationId = await createGroup('mia', ['noah']);
  });

  it('sends with 201 and answers a retry with 200 and the very same body, storing one message', async () => {
    const url = `/v1/conversations/${conversationId}/messages`;
    const first = await h.request('POST', url, { as: 'mia', body: text('m-1', 'hello') });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toEqual({ messageId: expect.any(String), seq: 2, sentAt: expect.any(String) });
    const afterFirst = await h.settledHead();
    const retry = await h.request('POST', url, { as: 'mia', body: text('m-1', 'hello') });
    expect(retry.statusCode).toBe(200);
    expect(retry.body).toBe(first.body);
    expect(await h.settledHead()).toBe(afterFirst);
    const stored = await h.store.readStream(conversationStreamId(conversationId));
    expect(stored.filter((e) => e.type === 'MessageSent')).toHaveLength(1);
  });

  it('edits and recalls, and history shows both applied', async () => {
    const url = `/v1/conversations/${conversationId}/messages`;
    const sent = (await h.request('POST', url, { as: 'noah', body: text('n-1', 'typo') })).json();
    const edited = await h.request('PATCH', `${url}/${sent.messageId}`, { as: 'noah', body: { body: { text: 'fixed' } } });
    expect(edited.statusCode).toBe(200);
    expect(edited.json()).toEqual({ messageId: sent.messageId, seq: sent.seq + 1, editedAt: expect.any(String) });
    const other = (await h.request('POST', url, { as: 'noah', body: text('n-2', 'oops') })).json();
    const recalled = await h.request('DELETE', `${url}/${other.messageId}`, { as: 'noah' });
    expect(recalled.statusCode).toBe(200);
    expect(recalled.json()).toMatchObject({ messageId: other.messageId, recalledAt: expect.any(String) });
    const notMine = await h.request('PATCH', `${url}/${other.messageId}`, { as: 'mia', body: { body: { text: 'x' } } });
    expect(problemOf(notMine)).toMatchObject({ status: 403, code: 'not_message_sender' });

    await h.settle();
    const history = await h.request('GET', `${url}?limit=50`, { as: 'mia' });
    expect(history.statusCode).toBe(200);
    const { items, tier, nextCursor } = history.json();
    expect(tier).toBe('warm'); // this harness has no hot tier
    expect(nextCursor).toBeNull();
    expect(items.map((i: { seq: number }) => i.seq)).toEqual(items.map((_: unknown, k: number) => k + 1));
    expect(items.find((i: { messageId?: string }) => i.messageId === sent.messageId)).toMatchObject({ body: { text: 'fixed' }, editedAt: expect.any(String) });
    expect(items.find((i: { messageId?: string }) => i.messageId === other.messageId)).toMatchObject({ recalled: true, body: {} });
  });

  it('pages history backwards with before= and forwards with after=', async () => {
    const dm = await createGroup('olga', ['pete'], 'paging');
    for (let i = 0; i < 5; i++) await h.request('POST', `/v1/conversations/${dm}/messages`, { as: 'olga', body: text(`p-${i}`, `#${i}`) });
    await h.settle();
    const url = `/v1/conversations/${dm}/messages`;
    const newest = (await h.request('GET', `${url}?limit=2`, { as: 'pete' })).json();
    expect(newest.items.map((i: { seq: number }) => i.seq)).toEqual([5, 6]);
    expect(newest.nextCursor).toBe(5);
    const older = (await h.request('GET', `${url}?limit=2&before=${newest.nextCursor}`, { as: 'pete' })).json();
    expect(older.items.map((i: { seq: number }) => i.seq)).toEqual([3, 4]);
    const forward = (await h.request('GET', `${url}?after=4&limit=2`, { as: 'pete' })).json();
    expect(forward.items.map((i: { seq: number }) => i.seq)).toEqual([5, 6]);
    expect(forward.nextCursor).toBe(6);
    const end = (await h.request('GET', `${url}?after=6&limit=2`, { as: 'pete' })).json();
    expect(end).toMatchObject({ items: [], nextCursor: null });
  });
});

describe('read marks, settings, the conversation list and unread', () => {
  it('moves the read mark forward only, clamps it, and unread follows', async () => {
    const id = await createGroup('quinn', ['rita'], 'reading');
    for (let i = 0; i < 3; i++) await h.request('POST', `/v1/conversations/${id}/messages`, { as: 'quinn', body: text(`q-${i}`, `#${i}`) });
    await h.settle();
    const unread = (await h.request('GET', '/v1/unread', { as: 'rita' })).json();
    expect(unread).toEqual({ total: 3, conversations: [{ conversationId: id, unread: 3 }], tiers: ['warm'] }); // no hot tier in this harness

    const read = await h.request('POST', `/v1/conversations/${id}/read`, { as: 'rita', body: { seq: 3 }, headers: { 'x-device-id': 'phone-1' } });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual({ seq: 3 });
    expect((await h.request('POST', `/v1/conversations/${id}/read`, { as: 'rita', body: { seq: 1 } })).json()).toEqual({ seq: 3 });
    expect((await h.request('POST', `/v1/conversations/${id}/read`, { as: 'rita', body: { seq: 999 } })).json()).toEqual({ seq: 4 });
    await h.settle();
    expect((await h.request('GET', '/v1/unread', { as: 'rita' })).json()).toEqual({ total: 0, conversations: [{ conversationId: id, unread: 0 }], tiers: ['warm'] });
  });

  it('changes settings (204) and lists conversations newest first, page by page', async () => {
    const older = await createGroup('sam', ['tina'], 'older');
    const newer = await createGroup('sam', ['tina'], 'newer');
    const patched = await h.request('PATCH', `/v1/conversations/${older}/settings`, { as: 'sam', body: { muted: true, pinned: true } });
    expect(patched.statusCode).toBe(204);
    expect(patched.body).toBe('');
    await h.settle();

    const first = await h.request('GET', '/v1/conversations?limit=1', { as: 'sam' });
    expect(first.statusCode).toBe(200);
    expect(first.json().items).toHaveLength(1);
    expect(first.json().items[0]).toMatchObject({ conversationId: newer, kind: 'group', title: 'newer', lastSeq: 1, unread: 0 });
    const second = await h.request('GET', `/v1/conversations?limit=1&cursor=${encodeURIComponent(first.json().nextCursor)}`, { as: 'sam' });
    expect(second.json().items[0]).toMatchObject({ conversationId: older, muted: true, pinned: true, hidden: false });
    expect(second.json().nextCursor).toBeNull();
    const bad = await h.request('GET', '/v1/conversations?cursor=bogus', { as: 'sam' });
    expect(problemOf(bad)).toMatchObject({ status: 400, code: 'invalid_cursor' });
  });
});

describe('groups', () => {
  it('runs a group through rename, members, roles, leave and dissolve', async () => {
    const id = await createGroup('uma', ['vic'], 'first name');
    const path = `/v1/groups/${id}`;
    const expectSeq = async (response: Promise<LightMyRequestResponse>, seq: number) => {
      const r = await response;
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json()).toEqual({ seq });
    };
    await expectSeq(h.request('PATCH', path, { as: 'uma', body: { name: 'second name' } }), 2);
    await expectSeq(h.request('POST', `${path}/members`, { as: 'uma', body: { userIds: ['walt', 'xena'] } }), 3);
    await expectSeq(h.request('PUT', `${path}/members/vic/role`, { as: 'uma', body: { role: 'admin' } }), 4);
    const plain = await h.request('DELETE', `${path}/members/walt`, { as: 'xena' });
    expect(problemOf(plain)).toMatchObject({ status: 403, code: 'forbidden', details: { role: 'member' } });
    await expectSeq(h.request('DELETE', `${path}/members/walt`, { as: 'vic' }), 5);
    await expectSeq(h.request('POST', `${path}/leave`, { as: 'xena' }), 6);
    const again = await h.request('PUT', `${path}/members/vic/role`, { as: 'uma', body: { role: 'admin' } });
    expect(problemOf(again)).toMatchObject({ status: 409, code: 'no_change' });
    await expectSeq(h.request('DELETE', path, { as: 'uma' }), 7);
    const after = await h.request('POST', `/v1/conversations/${id}/messages`, { as: 'uma', body: text('late', 'anyone?') });
    expect(after.statusCode).toBe(409);

    await h.settle();
    const list = (await h.request('GET', '/v1/conversations', { as: 'vic' })).json();
    expect(list.items.find((c: { conversationId: string }) => c.conversationId === id)).toMatchObject({ title: 'second name', dissolved: true });
  });
});

describe('membership privacy', () => {
  let id: string;
  let messageId: string;
  beforeAll(async () => {
    id = await createGroup('yara', ['zane'], 'private');
    messageId = (await h.request('POST', `/v1/conversations/${id}/messages`, { as: 'yara', body: text('y-1', 'secret') })).json().messageId;
    await h.settle();
  });

  /** Status, body and headers, minus what differs per request anyway (time, request id, rate budget). */
  const visible = (r: LightMyRequestResponse) => {
    const { date: _date, 'x-request-id': _id, 'x-ratelimit-remaining': _left, 'x-ratelimit-reset': _reset, ...headers } = r.headers;
    return { status: r.statusCode, body: r.body, headers };
  };

  type Probe = { method: 'GET' | 'POST' | 'PATCH'; url: string; body?: unknown };
  const probes: Array<[string, (c: string) => Probe]> = [
    ['read history', (c) => ({ method: 'GET', url: `/v1/conversations/${c}/messages` })],
    ['send', (c) => ({ method: 'POST', url: `/v1/conversations/${c}/messages`, body: text('probe', 'hi') })],
    ['mark read', (c) => ({ method: 'POST', url: `/v1/conversations/${c}/read`, body: { seq: 1 } })],
    ['change settings', (c) => ({ method: 'PATCH', url: `/v1/conversations/${c}/settings`, body: { muted: true } })],
    ['rename', (c) => ({ method: 'PATCH', url: `/v1/groups/${c}`, body: { name: 'mine now' } })],
    ['add members', (c) => ({ method: 'POST', url: `/v1/groups/${c}/members`, body: { userIds: ['intruder'] } })],
    ['leave', (c) => ({ method: 'POST', url: `/v1/groups/${c}/leave` })],
  ];

  it.each(probes)('%s: a non-member gets exactly the answer for a missing conversation', async (_label, build) => {
    const existing = build(id);
    const absent = build(randomUUID());
    const before = await h.settledHead();
    const probed = await h.request(existing.method, existing.url, { as: 'intruder', body: existing.body });
    const missing = await h.request(absent.method, absent.url, { as: 'intruder', body: absent.body });
    expect(problemOf(probed)).toMatchObject({ status: 404, code: 'conversation_not_found' });
    expect(visible(probed)).toEqual(visible(missing));
    expect(await h.settledHead()).toBe(before);
  });

  it('hides messages of other conversations too (edit/recall by a non-member)', async () => {
    const probed = await h.request('DELETE', `/v1/conversations/${id}/messages/${messageId}`, { as: 'intruder' });
    const missing = await h.request('DELETE', `/v1/conversations/${randomUUID()}/messages/${messageId}`, { as: 'intruder' });
    expect(visible(probed)).toEqual(visible(missing));
    expect(probed.statusCode).toBe(404);
  });
});

describe('presence', () => {
  it('reports online users and never-seen ones', async () => {
    await presence.deviceConnected('alice', 'c1', Date.now());
    const response = await h.request('GET', '/v1/presence?userIds=alice,ghost', { as: 'bob' });
    expect(response.statusCode).toBe(200);
    expect(response.json().items).toEqual([
      { userId: 'alice', online: true, lastSeen: expect.any(String) },
      { userId: 'ghost', online: false, lastSeen: null },
    ]);
    const tooMany = Array.from({ length: 101 }, (_, i) => `u${i}`).join(',');
    expect(problemOf(await h.request('GET', `/v1/presence?userIds=${tooMany}`, { as: 'bob' })).code).toBe('validation_failed');
  });
});
