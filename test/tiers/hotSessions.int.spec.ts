// The hot tier's session list heads and unread counters against the PostgreSQL sessions projection,
// the reference (DESIGN.md §4): after random histories (random batch boundaries on both sides), every
// row hot knows must equal warm's, and the heads and unread summaries must be the same answers. Run
// for both adapters, with a fan-out limit of 500 (everything counted in hot) and of 3 (groups switch
// to read fan-out and back, where hot marks rows unknown and the reader falls back to warm).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getUnread, listConversations } from '../../src/projections/index.js';
import { createHotProjection } from '../../src/tiers/hotProjection.js';
import { hotSessionHead, hotUnread, sessionRowOf } from '../../src/tiers/hotSessionView.js';
import type { HotStore } from '../../src/tiers/hotStore.js';
import { createMemoryHotStore } from '../../src/tiers/memoryHotStore.js';
import { createRedisHotStore } from '../../src/tiers/redisHotStore.js';
import { createSessionsReader } from '../../src/tiers/tieredSessions.js';
import { writeRandomHistory } from '../projections/randomHistory.js';
import { createProjectionFixture, newId, type ProjectionFixture } from '../projections/support.js';
import { connectTestRedis, REDIS_SKIP_REASON, testRedisUrl, uniqueTestId } from '../support/redis.js';

const redisUrl = testRedisUrl();

interface Subject {
  hot: HotStore;
  dispose(): Promise<void>;
}

const adapters: Array<{ name: string; open: (() => Promise<Subject>) | null }> = [
  { name: 'memory', open: async () => ({ hot: createMemoryHotStore(), dispose: async () => {} }) },
  {
    name: 'redis',
    open: redisUrl
      ? async () => {
          const prefix = `{${uniqueTestId('hotsessions')}}`;
          const hot = await createRedisHotStore({ url: redisUrl, prefix });
          return {
            hot,
            async dispose() {
              await hot.close();
              const redis = await connectTestRedis(redisUrl);
              const keys = await redis.keys(`${prefix}*`);
              if (keys.length > 0) await redis.del(...keys);
              redis.disconnect();
            },
          };
        }
      : null,
  },
];

for (const { name, open } of adapters) {
  for (const fanoutLimit of [500, 3]) {
    describe(`hot sessions vs the sessions projection (${name}, FANOUT_LIMIT ${fanoutLimit})`, () => {
      if (!open) {
        it.skip(REDIS_SKIP_REASON, () => {});
        return;
      }
      let fx: ProjectionFixture;
      let subject: Subject;
      beforeAll(async () => {
        fx = await createProjectionFixture({ fanoutLimit, batchSize: 9 });
        subject = await open();
      });
      afterAll(async () => {
        await subject?.dispose();
        await fx?.close();
      });

      it('holds the same rows, heads and unread as warm after random histories', async () => {
        let knownRows = 0;
        let hotAnswers = 0;
        await fc.assert(
          fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 13 }), async (seed, hotBatch) => {
            const projection = createHotProjection({ store: fx.store, hot: subject.hot, fanoutLimit, batchSize: hotBatch });
            const users = Array.from({ length: 5 }, () => newId());
            await writeRandomHistory(fx.log, {
              seed,
              steps: 90,
              users,
              newId,
              pauseChance: 0.15,
              onPause: async (step) => (step % 2 === 0 ? projection.catchUp() : fx.runner.catchUp()),
            });
            await projection.catchUp();
            await fx.runner.catchUp();
            const reader = createSessionsReader({ db: fx.db.pool, hot: subject.hot });
            for (const u of users) {
              const warmRows = (await listConversations(fx.db.pool, u, { limit: 200 })).items;
              const read = await subject.hot.readSessions(u);
              expect(read.ready).toBe(true);
              expect(read.entries.map((e) => e.row.conversationId).sort(), `rows of ${u}`).toEqual(warmRows.map((r) => r.conversationId).sort());
              for (const entry of read.entries) {
                const hotRow = sessionRowOf(u, entry);
                if (fanoutLimit === 500) expect(hotRow, `unread of ${u}/${entry.row.conversationId} known to hot`).not.toBeNull();
                if (!hotRow) continue;
                knownRows += 1;
                expect(hotRow).toEqual(warmRows.find((r) => r.conversationId === entry.row.conversationId));
              }
              for (const limit of [2, 200]) {
                const head = hotSessionHead(u, read.entries, limit);
                if (fanoutLimit === 500) expect(head).not.toBeNull();
                if (head) expect(head).toEqual(await listConversations(fx.db.pool, u, { limit }));
              }
              const unread = hotUnread(read.entries);
              if (fanoutLimit === 500) expect(unread).not.toBeNull();
              if (unread) {
                hotAnswers += 1;
                expect(unread).toEqual(await getUnread(fx.db.pool, u));
              }
              // The reader answers the same whichever tier it picks.
              const served = await reader.unread(u);
              expect(served.tier).toBe(unread ? 'hot' : 'warm');
              expect({ ...served, tier: undefined }).toEqual({ ...(await getUnread(fx.db.pool, u)), tier: undefined });
            }
          }),
          { numRuns: 4 },
        );
        // Not vacuous: hot knew rows even with read fan-out in play (at 500 every answer came from hot).
        expect(knownRows).toBeGreaterThan(0);
        if (fanoutLimit === 500) expect(hotAnswers).toBeGreaterThan(0);
      }, 180_000);
    });
  }
}

describe('hot sessions: what hot does not count is read from warm', () => {
  let fx: ProjectionFixture;
  beforeAll(async () => {
    fx = await createProjectionFixture({ fanoutLimit: 2 });
  });
  afterAll(async () => fx?.close());

  it('a read fan-out group makes its rows unknown to hot; back in write mode, a read to the head makes them known again', async () => {
    const hot = createMemoryHotStore();
    const projection = createHotProjection({ store: fx.store, hot, fanoutLimit: 2 });
    const reader = createSessionsReader({ db: fx.db.pool, hot });
    const [c, ann, bob, cat] = [newId(), newId(), newId(), newId()];
    await fx.log.group(c, ann, [bob, cat], 'big'); // 3 members > 2: read fan-out
    await fx.log.send(c, ann, 'hello');
    await projection.catchUp();
    await fx.runner.catchUp();
    expect(await reader.unread(bob)).toEqual({ total: 1, conversations: [{ conversationId: c, unread: 1 }], tier: 'warm' });
    expect((await reader.list(bob, { limit: 10 })).tier).toBe('warm');

    await fx.log.leave(c, cat); // 2 members: write fan-out again
    const sent = await fx.log.send(c, ann, 'again');
    await projection.catchUp();
    await fx.runner.catchUp();
    expect((await reader.unread(bob)).tier).toBe('warm'); // still unknown: hot never counted the read-mode part
    await fx.log.read(bob, c, sent.seq);
    await fx.log.send(c, ann, 'after the read');
    await projection.catchUp();
    await fx.runner.catchUp();
    expect(await reader.unread(bob)).toEqual({ total: 1, conversations: [{ conversationId: c, unread: 1 }], tier: 'hot' });
    const list = await reader.list(bob, { limit: 10 });
    expect(list).toEqual({ ...(await listConversations(fx.db.pool, bob, { limit: 10 })), tier: 'hot' });
    // A cursor page always reads warm.
    expect((await reader.list(bob, { limit: 10, cursor: list.nextCursor ?? 'WyIyMDI1LTAxLTE1VDEwOjAwOjAwLjAwMFoiLCJ6Il0' })).tier).toBe('warm');
  });
});
