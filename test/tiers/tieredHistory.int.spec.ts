// History pages across tiers: every page equals the warm-only reference of the whole history, whatever
// mix of hot, warm and cold served it, and says which tiers did.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getHistory } from '../../src/projections/index.js';
import { createMemoryHotStore } from '../../src/tiers/memoryHotStore.js';
import { createRedisHotStore } from '../../src/tiers/redisHotStore.js';
import type { HotStore } from '../../src/tiers/hotStore.js';
import { connectTestRedis, testRedisUrl, uniqueTestId } from '../support/redis.js';
import { createHotProjection, type HotProjection } from '../../src/tiers/hotProjection.js';
import { createHistoryReader, type HistoryReader } from '../../src/tiers/tieredHistory.js';
import type { HistoryQuery } from '../../src/tiers/historyRange.js';
import { createProjectionFixture, newId, type ProjectionFixture } from '../projections/support.js';

const DAY = 24 * 3600 * 1000;
let fx: ProjectionFixture;
let c: string;
let reference: Awaited<ReturnType<typeof getHistory>>['items'];
// The Redis adapter on the shared test Redis (own key prefix, deleted after) when REDIS_URL is set.
const redisUrl = testRedisUrl();
const redisPrefix = `{${uniqueTestId('tiered')}}`;
const hot: HotStore = redisUrl ? await createRedisHotStore({ url: redisUrl, prefix: redisPrefix }) : createMemoryHotStore();
let projection: HotProjection;
let reader: HistoryReader;

/** Every page shape worth asking: newest, before/after at many points, both bounds, small and large limits. */
function queries(last: number): HistoryQuery[] {
  const found: HistoryQuery[] = [];
  for (const limit of [1, 7, 50, 200]) {
    found.push({ limit });
    for (let seq = 0; seq <= last + 2; seq += 9) {
      found.push({ before: seq + 1, limit }, { after: seq, limit });
      if (seq + 20 <= last + 2) found.push({ after: seq, before: seq + 20, limit });
    }
  }
  return found;
}

const expected = (q: HistoryQuery) => {
  let items = reference.filter((i) => (q.after === undefined || i.seq > q.after) && (q.before === undefined || i.seq < q.before));
  items = q.after !== undefined ? items.slice(0, q.limit) : items.slice(-q.limit);
  return items;
};

beforeAll(async () => {
  fx = await createProjectionFixture();
  c = newId();
  // 60 items in September 2026 (an old month), 40 in November; edits and a recall of old messages.
  fx.log.setTime('2026-09-10T10:00:00.000Z');
  await fx.log.direct(c, 'ann', 'bob');
  const sent = [];
  for (let i = 0; i < 59; i++) sent.push(await fx.log.send(c, i % 2 ? 'ann' : 'bob', `old ${i}`));
  await fx.log.edit(c, 'bob', sent[0]!, 'old 0, edited');
  await fx.log.recall(c, 'ann', sent[1]!);
  fx.log.setTime('2026-11-20T10:00:00.000Z');
  for (let i = 0; i < 38; i++) sent.push(await fx.log.send(c, i % 2 ? 'ann' : 'bob', `new ${i}`));
  await fx.runner.catchUp();
  reference = (await getHistory(fx.db.pool, c, { limit: 1000 })).items;
  expect(reference.map((i) => i.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  projection = createHotProjection({ store: fx.store, hot, maxItems: 30 });
  await projection.catchUp();
  reader = createHistoryReader({ db: fx.db.pool, store: fx.store, hot, patchHorizonMs: DAY });
});
afterAll(async () => {
  await hot.close();
  if (redisUrl) {
    const redis = await connectTestRedis(redisUrl);
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
  await fx.close();
});

describe(`tiered history (hot tier: ${hot.kind})`, () => {
  it('hot holds the newest 30; a page inside it is served by hot alone', async () => {
    expect((await hot.window(c)).window).toEqual({ lo: 71, last: 100 });
    const page = await reader.read(c, { limit: 20 });
    expect(page.items).toEqual(expected({ limit: 20 }));
    expect(page.tiers).toEqual(['hot']);
  });

  it('a page straddling hot and warm is seamless and in order', async () => {
    const page = await reader.read(c, { before: 81, limit: 20 });
    expect(page.items.map((i) => i.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 61 + i));
    expect(page.items).toEqual(expected({ before: 81, limit: 20 }));
    expect(page.tiers).toEqual(['hot', 'warm']);
    expect(page.counts).toEqual({ hot: 10, warm: 10, cold: 0 });
  });

  it('every page equals the reference, with hot, without hot, and with the old month dropped from warm', async () => {
    const noHot = createHistoryReader({ db: fx.db.pool, store: fx.store, patchHorizonMs: DAY });
    for (const q of queries(100)) {
      expect((await reader.read(c, q)).items, JSON.stringify(q)).toEqual(expected(q));
      expect((await noHot.read(c, q)).items, JSON.stringify(q)).toEqual(expected(q));
    }
    // Tiering dropped September from warm: those seqs (1..60) now come from the log, edits applied.
    await fx.db.pool.query('DROP TABLE proj_timeline.items_p202609');
    const tiersSeen = new Set<string>();
    for (const q of queries(100)) {
      const page = await reader.read(c, q);
      expect(page.items, JSON.stringify(q)).toEqual(expected(q));
      tiersSeen.add(page.tiers.join(','));
    }
    expect(tiersSeen).toEqual(new Set(['hot', 'warm', 'cold', 'hot,warm', 'warm,cold', 'hot,warm,cold']));
    const oldest = await reader.read(c, { after: 0, limit: 3 });
    expect(oldest.tiers).toEqual(['cold']);
    expect(oldest.items[1]).toMatchObject({ seq: 2, body: { text: 'old 0, edited' } });
    expect(oldest.items[2]).toMatchObject({ seq: 3, recalled: true, body: {} });
  });

  it('a hot tier that lost its state is skipped: warm and cold answer', async () => {
    const lost = createMemoryHotStore();
    const withLost = createHistoryReader({ db: fx.db.pool, store: fx.store, hot: lost, patchHorizonMs: DAY });
    const page = await withLost.read(c, { limit: 5 });
    expect(page.items).toEqual(expected({ limit: 5 }));
    expect(page.tiers).toEqual(['warm']);
  });

  it('refuses bad queries before reading anything', async () => {
    await expect(reader.read(c, { before: 3, after: 5, limit: 2 })).rejects.toMatchObject({ code: 'invalid_query' });
    await expect(reader.read(c, { limit: 0 })).rejects.toMatchObject({ code: 'invalid_query' });
  });
});
