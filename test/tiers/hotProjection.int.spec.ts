// The hot projection against a real log (PostgreSQL event store) and each hot adapter: it follows the
// log, applies each batch with its checkpoint, and rebuilds by itself after losing its state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryHotStore } from '../../src/tiers/memoryHotStore.js';
import { createRedisHotStore } from '../../src/tiers/redisHotStore.js';
import { createHotProjection } from '../../src/tiers/hotProjection.js';
import type { HotStore } from '../../src/tiers/hotStore.js';
import type { MessageItem } from '../../src/projections/types.js';
import { createLogWriter, newId, type LogWriter } from '../projections/support.js';
import { createPostgresEventStore } from '../../src/store/postgres/postgresEventStore.js';
import type { EventStore } from '../../src/store/eventStore.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { OWN_REDIS_SKIP_REASON, redisServerInstalled, startOwnRedis, type OwnRedis } from '../support/ownRedis.js';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { registerHotMetrics } from '../../src/tiers/hotMetrics.js';
import { createHistoryReader } from '../../src/tiers/tieredHistory.js';
import { createProjectionRunner, ensureProjectionSchemas, timelineProjection } from '../../src/projections/index.js';

let db: TestDatabase;
let store: EventStore;
let log: LogWriter;
beforeAll(async () => {
  db = await createTestDatabase();
  store = createPostgresEventStore({ pool: db.pool, notify: false, pollIntervalMs: 50 });
  log = createLogWriter(store);
  await ensureProjectionSchemas(db.pool);
});
afterAll(async () => {
  await store.close();
  await db.drop();
});

async function hotSeqs(hot: HotStore, c: string): Promise<number[]> {
  const { epoch, window } = await hot.window(c);
  if (!window) return [];
  return (await hot.items(epoch, c, window.lo, window.last)).map((i) => i.seq);
}

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('hot projection (memory adapter)', () => {
  it('follows the log: recent items per conversation with edits and recalls, trimmed to maxItems', async () => {
    const hot = createMemoryHotStore();
    const projection = createHotProjection({ store, hot, maxItems: 5, batchSize: 3 });
    const c = newId();
    await log.direct(c, 'ann', 'bob');
    const sent = [];
    for (let i = 0; i < 7; i++) sent.push(await log.send(c, 'ann', `m${i}`));
    await log.edit(c, 'ann', sent[6]!, 'edited');
    await log.recall(c, 'ann', sent[5]!);
    await projection.catchUp();
    expect(await hotSeqs(hot, c)).toEqual([6, 7, 8, 9, 10]);
    const { epoch } = await hot.window(c);
    const [, recalled, edited] = (await hot.items(epoch, c, 6, 8)) as MessageItem[];
    expect(recalled).toMatchObject({ seq: 7, recalled: true, body: {} });
    expect(edited).toMatchObject({ seq: 8, body: { text: 'edited' } });
    expect((await projection.status()).ready).toBe(true);
  });

  it('exposes readiness, checkpoint and rebuilds as Prometheus gauges', async () => {
    const hot = createMemoryHotStore();
    const projection = createHotProjection({ store, hot });
    const registry = new Registry();
    registerHotMetrics(registry, projection);
    expect(await registry.getSingleMetricAsString('missive_hot_tier_ready')).toMatch(/^missive_hot_tier_ready 0$/m);
    expect(await registry.getSingleMetricAsString('missive_hot_tier_checkpoint')).toMatch(/^missive_hot_tier_checkpoint -1$/m);
    await projection.catchUp();
    const head = (await hot.readState())!.checkpoint;
    expect(head).toBeGreaterThan(0n);
    expect(await registry.getSingleMetricAsString('missive_hot_tier_ready')).toMatch(/^missive_hot_tier_ready 1$/m);
    expect(await registry.getSingleMetricAsString('missive_hot_tier_checkpoint')).toMatch(new RegExp(`^missive_hot_tier_checkpoint ${head}$`, 'm'));
    expect(await registry.getSingleMetricAsString('missive_hot_tier_rebuilds')).toMatch(/^missive_hot_tier_rebuilds 1$/m);
  });

  it('rebuilds from the log after losing its state (a restart of the process)', async () => {
    const hot = createMemoryHotStore();
    const projection = createHotProjection({ store, hot, pollIntervalMs: 20 });
    const c = newId();
    await log.direct(c, 'ann', 'bob');
    await log.send(c, 'bob', 'hi');
    await projection.start();
    try {
      await waitUntil(async () => (await hot.window(c)).ready && (await hotSeqs(hot, c)).length === 2, 'the first build');
      hot.flush();
      expect((await hot.window(c)).ready).toBe(false);
      await waitUntil(async () => (await hot.window(c)).ready && (await hotSeqs(hot, c)).length === 2, 'the rebuild');
      expect((await projection.status()).rebuilds).toBe(2);
    } finally {
      await projection.stop();
    }
  });
});

describe.skipIf(!redisServerInstalled())('hot projection (Redis adapter, its own redis-server)', () => {
  let redis: OwnRedis;
  beforeAll(async () => {
    redis = await startOwnRedis();
  });
  afterAll(async () => redis?.stop());

  it('notices FLUSHALL and a restart without persistence, and rebuilds with no operator action; reads stay correct meanwhile', async () => {
    const hot = await createRedisHotStore({ url: redis.url, prefix: '{flush-test}' });
    const reader = createHistoryReader({ db: db.pool, store, hot, patchHorizonMs: 24 * 3600 * 1000 });
    const runner = createProjectionRunner({ pool: db.pool, store, fanoutLimit: 500, projections: [timelineProjection] });
    const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    admin.on('error', () => {});
    const c = newId();
    await log.direct(c, 'ann', 'bob');
    await log.send(c, 'ann', 'one');
    let projection = createHotProjection({ store, hot, pollIntervalMs: 20 });
    await projection.start();
    const page = async () => {
      const { items, tiers } = await reader.read(c, { limit: 10 });
      return { seqs: items.map((i) => i.seq).join(), tiers: tiers.join() };
    };
    try {
      await waitUntil(async () => (await hot.window(c)).ready, 'the first build');
      const firstEpoch = (await hot.readState())!.epoch;
      expect(await page()).toEqual({ seqs: '1,2', tiers: 'hot' });

      // FLUSHALL while the projection is stopped: reads answer from warm (and cold) at once.
      await projection.stop();
      await admin.flushall();
      await log.send(c, 'bob', 'two');
      await runner.catchUp();
      expect(await page()).toEqual({ seqs: '1,2,3', tiers: 'warm' });
      projection = createHotProjection({ store, hot, pollIntervalMs: 20 });
      await projection.start();
      await waitUntil(async () => (await page()).tiers === 'hot', 'the rebuild after FLUSHALL');
      expect(await page()).toEqual({ seqs: '1,2,3', tiers: 'hot' });
      expect((await hot.readState())!.epoch).not.toBe(firstEpoch);

      // Redis gone: reads answer from warm, promptly.
      await redis.stop();
      const started = Date.now();
      expect(await page()).toEqual({ seqs: '1,2,3', tiers: 'warm' });
      expect(Date.now() - started).toBeLessThan(1_500);
      // Back without its data (no persistence): the running projection rebuilds by itself.
      await redis.restart();
      await log.send(c, 'ann', 'three');
      await runner.catchUp();
      await waitUntil(async () => {
        try {
          return (await hot.window(c)).ready && (await hotSeqs(hot, c)).join() === '1,2,3,4';
        } catch {
          return false; // reconnecting
        }
      }, 'the rebuild after a restart', 20_000);
      expect(await page()).toEqual({ seqs: '1,2,3,4', tiers: 'hot' });
      expect((await projection.status()).rebuilds).toBe(2); // the second projection: after FLUSHALL, after the restart
    } finally {
      await projection.stop();
      await hot.close();
      admin.disconnect();
    }
  });
});

if (!redisServerInstalled()) {
  describe('hot projection (Redis adapter)', () => {
    it.skip(OWN_REDIS_SKIP_REASON, () => {});
  });
}
