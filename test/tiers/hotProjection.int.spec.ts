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

let db: TestDatabase;
let store: EventStore;
let log: LogWriter;
beforeAll(async () => {
  db = await createTestDatabase();
  store = createPostgresEventStore({ pool: db.pool, notify: false, pollIntervalMs: 50 });
  log = createLogWriter(store);
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

  it('notices FLUSHALL and a restart without persistence, and rebuilds with no operator action', async () => {
    const hot = createRedisHotStore({ url: redis.url, prefix: '{flush-test}' });
    const projection = createHotProjection({ store, hot, pollIntervalMs: 20 });
    const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    admin.on('error', () => {});
    const c = newId();
    await log.direct(c, 'ann', 'bob');
    await log.send(c, 'ann', 'one');
    await projection.start();
    try {
      await waitUntil(async () => (await hot.window(c)).ready, 'the first build');
      const firstEpoch = (await hot.readState())!.epoch;
      await admin.flushall();
      await log.send(c, 'bob', 'two');
      await waitUntil(async () => (await hot.window(c)).ready && (await hotSeqs(hot, c)).join() === '1,2,3', 'the rebuild after FLUSHALL');
      expect((await hot.readState())!.epoch).not.toBe(firstEpoch);

      await redis.restart();
      await log.send(c, 'ann', 'three');
      await waitUntil(async () => {
        try {
          return (await hot.window(c)).ready && (await hotSeqs(hot, c)).join() === '1,2,3,4';
        } catch {
          return false; // reconnecting
        }
      }, 'the rebuild after a restart', 20_000);
      expect((await projection.status()).rebuilds).toBe(3);
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
