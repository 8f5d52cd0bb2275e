// History through the API with a hot tier: the answer names the tiers that served it (body and
// X-Missive-Tiers), /metrics counts pages and items per tier, and bad input answers 400.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryHotStore } from '../../src/tiers/memoryHotStore.js';
import { createHotProjection } from '../../src/tiers/hotProjection.js';
import { createApiHarness, problemOf, type ApiHarness } from './apiHarness.js';

const hot = createMemoryHotStore();
let h: ApiHarness;
let url: string;

beforeAll(async () => {
  h = await createApiHarness({ hot });
  const opened = await h.request('POST', '/v1/conversations/direct', { as: 'tia', body: { peerId: 'uma' } });
  url = `/v1/conversations/${opened.json().conversationId}/messages`;
  for (let i = 0; i < 12; i++) await h.request('POST', url, { as: 'tia', body: { clientMsgId: `t-${i}`, kind: 'text', body: { text: `#${i}` } } });
  await h.settle();
  await createHotProjection({ store: h.store, hot, maxItems: 5 }).catchUp();
});
afterAll(async () => h.close());

const metric = (text: string, name: string, tier: string): number => Number(new RegExp(`^${name}\\{tier="${tier}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);

describe('history tiers over HTTP', () => {
  it('says which tiers served a page and counts them in /metrics', async () => {
    const newest = await h.request('GET', `${url}?limit=5`, { as: 'uma' });
    expect(newest.statusCode).toBe(200);
    expect(newest.json()).toMatchObject({ tier: 'hot', tiers: ['hot'], nextCursor: 9 });
    expect(newest.headers['x-missive-tiers']).toBe('hot');

    const straddling = await h.request('GET', `${url}?limit=4&before=11`, { as: 'uma' });
    expect(straddling.json().items.map((i: { seq: number }) => i.seq)).toEqual([7, 8, 9, 10]);
    expect(straddling.json()).toMatchObject({ tier: 'warm', tiers: ['hot', 'warm'] });
    expect(straddling.headers['x-missive-tiers']).toBe('hot,warm');

    const metrics = (await h.request('GET', '/metrics')).body;
    expect(metric(metrics, 'missive_history_tier_reads_total', 'hot')).toBe(2);
    expect(metric(metrics, 'missive_history_tier_reads_total', 'warm')).toBe(1);
    expect(metric(metrics, 'missive_history_tier_items_total', 'hot')).toBe(7);
    expect(metric(metrics, 'missive_history_tier_items_total', 'warm')).toBe(2);
  });

  it('refuses before <= after with 400 validation_failed', async () => {
    const bad = await h.request('GET', `${url}?before=3&after=5`, { as: 'uma' });
    expect(problemOf(bad)).toMatchObject({ status: 400, code: 'validation_failed' });
  });
});
