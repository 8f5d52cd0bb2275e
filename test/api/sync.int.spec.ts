// GET /v1/sync through HTTP (DESIGN.md §5): a first sync without a token returns the session list and
// a token; a later sync with it returns exactly what happened since; a token from before a rebuild of
// the inbox projection (a new epoch) answers 409 resync_required with the way to start over.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSyncToken, decodeSyncToken } from '../../src/api/syncToken.js';
import { rebuildProjection } from '../../src/projections/index.js';
import { createApiHarness, problemOf, type ApiHarness } from './apiHarness.js';

const text = (clientMsgId: string, t: string) => ({ clientMsgId, kind: 'text', body: { text: t } });

let h: ApiHarness;
let conversationId: string;

beforeAll(async () => {
  h = await createApiHarness();
  conversationId = (await h.request('POST', '/v1/groups', { as: 'ann', body: { name: 'sync', memberIds: ['ben'] } })).json().conversationId;
  await h.request('POST', `/v1/conversations/${conversationId}/messages`, { as: 'ann', body: text('s-0', 'before') });
  await h.settle();
});
afterAll(async () => h?.close());

describe('GET /v1/sync', () => {
  it('starts without a token, then returns only what happened since, until caught up', async () => {
    const fresh = await h.request('GET', '/v1/sync', { as: 'ben' });
    expect(fresh.statusCode).toBe(200);
    const first = fresh.json();
    expect(first.conversations).toEqual([expect.objectContaining({ conversationId, lastSeq: 2, unread: 1 })]);
    expect(first).toMatchObject({ unreadTotal: 1, hasMore: false, nextToken: expect.any(String) });

    for (let i = 1; i <= 3; i++) await h.request('POST', `/v1/conversations/${conversationId}/messages`, { as: 'ann', body: text(`s-${i}`, `after ${i}`) });
    await h.settle();

    const page = (await h.request('GET', `/v1/sync?since=${first.nextToken}&limit=2`, { as: 'ben' })).json();
    expect(page.hasMore).toBe(true);
    expect(page.items.map((i: { seq: number }) => i.seq)).toEqual([3, 4]);
    expect(page.items[0]).toMatchObject({ type: 'item', conversationId, item: { kind: 'text', body: { text: 'after 1' }, senderId: 'ann' } });
    const rest = (await h.request('GET', `/v1/sync?since=${page.nextToken}&limit=2`, { as: 'ben' })).json();
    expect(rest.items.map((i: { seq: number }) => i.seq)).toEqual([5]);
    expect(rest).toMatchObject({ hasMore: false, unreadTotal: 4 });
    expect(rest.conversations).toEqual([expect.objectContaining({ conversationId, lastSeq: 5, unread: 4 })]);
    const idle = (await h.request('GET', `/v1/sync?since=${rest.nextToken}`, { as: 'ben' })).json();
    expect(idle).toMatchObject({ items: [], hasMore: false });
  });

  it('refuses a token it did not issue with 400 invalid_sync_token', async () => {
    const response = await h.request('GET', '/v1/sync?since=definitely-not-ours', { as: 'ben' });
    expect(problemOf(response)).toMatchObject({ status: 400, code: 'invalid_sync_token' });
  });

  it('answers a token from an older epoch with 409 resync_required, and a sync without `since` starts over', async () => {
    const token = (await h.request('GET', '/v1/sync', { as: 'ben' })).json().nextToken;
    await rebuildProjection({ pool: h.db.pool, store: h.store, fanoutLimit: h.config.fanoutLimit }, 'inbox');
    expect(decodeSyncToken(token).epoch).toBeGreaterThan(0);

    const stale = await h.request('GET', `/v1/sync?since=${token}`, { as: 'ben' });
    expect(stale.statusCode).toBe(409);
    const problem = problemOf(stale);
    expect(problem).toMatchObject({ code: 'resync_required', resync: { method: 'GET', path: '/v1/sync' } });
    expect(problem.detail).toMatch(/without `since`/);

    const restart = await h.request('GET', '/v1/sync', { as: 'ben' });
    expect(restart.statusCode).toBe(200);
    const next = restart.json().nextToken;
    expect(decodeSyncToken(next).epoch).toBe(decodeSyncToken(token).epoch + 1);
    expect((await h.request('GET', `/v1/sync?since=${next}`, { as: 'ben' })).statusCode).toBe(200);
    // A token claiming a future epoch is just as stale.
    const future = encodeSyncToken({ ...decodeSyncToken(next), epoch: 999 });
    expect(problemOf(await h.request('GET', `/v1/sync?since=${future}`, { as: 'ben' })).code).toBe('resync_required');
  });

  it("carries the user's own read marks and settings to their other devices", async () => {
    const token = (await h.request('GET', '/v1/sync', { as: 'ben' })).json().nextToken;
    await h.request('POST', `/v1/conversations/${conversationId}/read`, { as: 'ben', body: { seq: 3 }, headers: { 'x-device-id': 'laptop' } });
    await h.request('PATCH', `/v1/conversations/${conversationId}/settings`, { as: 'ben', body: { muted: true } });
    await h.settle();
    const delta = (await h.request('GET', `/v1/sync?since=${token}`, { as: 'ben', headers: { 'x-device-id': 'phone' } })).json();
    expect(delta.items).toEqual([
      { type: 'read', conversationId, seq: 3, deviceId: 'laptop', at: expect.any(String) },
      { type: 'settings', conversationId, muted: true, at: expect.any(String) },
    ]);
    expect(delta.conversations).toEqual([expect.objectContaining({ conversationId, lastReadSeq: 3, muted: true, unread: 2 })]);
    expect(delta.unreadTotal).toBe(2);
  });
});
