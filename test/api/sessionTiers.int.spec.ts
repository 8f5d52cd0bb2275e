// The conversation list head and unread through the API with a hot tier: warm answers until the hot
// projection has caught up, hot afterwards with the same body, later pages always warm; the answer
// names the tier (body and X-Missive-Tiers) and /metrics counts reads per view and tier.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryHotStore } from '../../src/tiers/memoryHotStore.js';
import { createHotProjection } from '../../src/tiers/hotProjection.js';
import { createApiHarness, type ApiHarness } from './apiHarness.js';

const hot = createMemoryHotStore();
let h: ApiHarness;

beforeAll(async () => {
  h = await createApiHarness({ hot });
  for (const peer of ['ivo', 'jan', 'kim']) {
    const opened = await h.request('POST', '/v1/conversations/direct', { as: 'hal', body: { peerId: peer } });
    const url = `/v1/conversations/${opened.json().conversationId}/messages`;
    for (let i = 0; i < 3; i++) await h.request('POST', url, { as: peer, body: { clientMsgId: `${peer}-${i}`, kind: 'text', body: { text: `#${i}` } } });
  }
  await h.settle();
});
afterAll(async () => h.close());

const metric = (text: string, view: string, tier: string): number =>
  Number(new RegExp(`^missive_session_tier_reads_total\\{view="${view}",tier="${tier}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);

describe('session tiers over HTTP', () => {
  it('answers from warm before the hot tier is ready, from hot after, with the same body', async () => {
    const warmList = await h.request('GET', '/v1/conversations?limit=2', { as: 'hal' });
    const warmUnread = await h.request('GET', '/v1/unread', { as: 'hal' });
    expect(warmList.json().tiers).toEqual(['warm']);
    expect(warmList.headers['x-missive-tiers']).toBe('warm');
    expect(warmUnread.json()).toMatchObject({ total: 9, tiers: ['warm'] });

    await createHotProjection({ store: h.store, hot }).catchUp();
    const hotList = await h.request('GET', '/v1/conversations?limit=2', { as: 'hal' });
    const hotUnread = await h.request('GET', '/v1/unread', { as: 'hal' });
    expect(hotList.headers['x-missive-tiers']).toBe('hot');
    expect(hotList.json()).toEqual({ ...warmList.json(), tiers: ['hot'] });
    expect(hotUnread.json()).toEqual({ ...warmUnread.json(), tiers: ['hot'] });

    const next = await h.request('GET', `/v1/conversations?limit=2&cursor=${hotList.json().nextCursor}`, { as: 'hal' });
    expect(next.json()).toMatchObject({ tiers: ['warm'], nextCursor: null });
    expect(next.json().items).toHaveLength(1);

    const metrics = (await h.request('GET', '/metrics')).body;
    expect(metric(metrics, 'sessions', 'warm')).toBe(2);
    expect(metric(metrics, 'sessions', 'hot')).toBe(1);
    expect(metric(metrics, 'unread', 'warm')).toBe(1);
    expect(metric(metrics, 'unread', 'hot')).toBe(1);
  });
});
