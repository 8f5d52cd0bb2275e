// getDelta reads the delta in one statement; tenQueryDelta.ts is how it was read before (ten round trips
// in a REPEATABLE READ transaction, merged in TypeScript). Random histories across a fan-out limit of 3
// (frequent mode switches), projections caught up in full or only in part (so the fence lags), and at
// every pause each user's pulls from current, stale and fresh cursors with several page sizes: both must
// answer the same delta, or fail the same way.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_PROJECTIONS, createProjectionRunner, getDelta, type SyncCursor } from '../../../src/projections/index.js';
import { seededRandom, writeRandomHistory } from '../randomHistory.js';
import { createProjectionFixture, newId, type ProjectionFixture } from '../support.js';
import { tenQueryDelta } from './tenQueryDelta.js';

type Read = typeof getDelta;

async function settle(read: Read, ...args: Parameters<Read>): Promise<unknown> {
  try {
    return { ok: await read(...args) };
  } catch (error) {
    const e = error as Error & { code?: string; reason?: string };
    return { error: e.constructor.name, code: e.code, reason: e.reason, message: e.message };
  }
}

let pulls = 0;
async function same(fx: ProjectionFixture, userId: string, cursor: SyncCursor | null, limit: number): Promise<void> {
  const expected = await settle(tenQueryDelta, fx.db.pool, userId, cursor, limit);
  const actual = await settle(getDelta, fx.db.pool, userId, cursor, limit);
  expect(actual, `${userId} since ${JSON.stringify(cursor)} limit ${limit}`).toEqual(expected);
  // On a client (a caller's transaction) it reads the same.
  const client = await fx.db.pool.connect();
  try {
    expect(await settle(getDelta, client, userId, cursor, limit)).toEqual(expected);
  } finally {
    client.release();
  }
  pulls++;
}

describe('the one-statement sync delta answers as the ten-query one did', () => {
  let fx: ProjectionFixture;
  beforeAll(async () => {
    fx = await createProjectionFixture({ fanoutLimit: 3, batchSize: 5 });
  });
  afterAll(async () => fx.close());

  for (const seed of [11, 12, 13]) {
    it(`seed ${seed}: every pull from current, stale and fresh cursors`, async () => {
      const random = seededRandom(seed * 7919);
      const users = Array.from({ length: 6 }, () => newId());
      const seen = new Map<string, SyncCursor[]>(users.map((u) => [u, []]));
      const current = new Map<string, SyncCursor>();
      for (const u of users) current.set(u, (await getDelta(fx.db.pool, u, null, 5)).nextCursor);
      // Only inbox and sessions: the timeline lags, so the fence holds items back.
      const partial = createProjectionRunner({
        pool: fx.db.pool,
        store: fx.store,
        fanoutLimit: 3,
        batchSize: 5,
        projections: ALL_PROJECTIONS.filter((p) => p.name !== 'timeline'),
      });

      const pullAll = async (u: string) => {
        for (let page = 0; page < 300; page++) {
          const limit = [1, 2, 4, 500][Math.floor(random() * 4)]!;
          await same(fx, u, current.get(u)!, limit);
          const delta = await getDelta(fx.db.pool, u, current.get(u)!, limit);
          seen.get(u)!.push(delta.nextCursor);
          current.set(u, delta.nextCursor);
          if (!delta.hasMore) return;
        }
        throw new Error('sync did not finish');
      };

      await writeRandomHistory(fx.log, {
        seed,
        steps: 140,
        users,
        newId,
        pauseChance: 0.2,
        onPause: async (step) => {
          if (random() < 0.3) await partial.catchUp();
          else await fx.runner.catchUp();
          const u = users[step % users.length]!;
          await same(fx, u, null, 5);
          const stale = seen.get(u)!;
          if (stale.length > 0) await same(fx, u, stale[Math.floor(random() * stale.length)]!, 3);
          await same(fx, u, { ...current.get(u)!, epoch: current.get(u)!.epoch + 1 }, 3); // resync_required
          await pullAll(u);
        },
      });
      await fx.runner.catchUp();
      for (const u of users) {
        await same(fx, u, null, 100);
        await same(fx, u, { inboxSeq: 0, groups: {}, epoch: current.get(u)!.epoch }, 500); // from the start
        await pullAll(u);
      }
      expect(pulls).toBeGreaterThan(100);
      const modes = await fx.db.pool.query(`SELECT count(*) FILTER (WHERE mode = 'read')::int AS reads FROM proj_inbox.fanout_modes`);
      expect(modes.rows[0].reads).toBeGreaterThan(0); // read fan-out was exercised
    });
  }
});

describe('round trips per pull', () => {
  let fx: ProjectionFixture;
  beforeAll(async () => {
    fx = await createProjectionFixture({ fanoutLimit: 3 });
  });
  afterAll(async () => fx.close());

  /** Statements sent to PostgreSQL while `read` runs (pool.query goes through Client.prototype.query too). */
  async function roundTrips(read: () => Promise<unknown>): Promise<number> {
    const original = pg.Client.prototype.query;
    let count = 0;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      count++;
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
    try {
      await read();
    } finally {
      pg.Client.prototype.query = original;
    }
    return count;
  }

  it('is one, with or without large groups, fresh or since a cursor (the ten-query read took 7 to 9)', async () => {
    const [ann, bob, cat, dan, eve, fay] = [newId(), newId(), newId(), newId(), newId(), newId()];
    const [direct, big, other] = [newId(), newId(), newId()];
    await fx.log.direct(direct, ann, bob);
    await fx.log.direct(other, eve, fay); // eve has no large group
    await fx.log.group(big, ann, [bob, cat, dan]); // 4 members > fan-out limit 3: read fan-out
    await fx.runner.catchUp();
    const cursors = {
      bob: (await getDelta(fx.db.pool, bob, null, 10)).nextCursor,
      eve: (await getDelta(fx.db.pool, eve, null, 10)).nextCursor,
    };
    await fx.log.send(direct, bob, 'hi');
    await fx.log.send(other, fay, 'hi');
    await fx.log.send(big, cat, 'all');
    await fx.runner.catchUp();
    const counts: Record<string, [number, number]> = {};
    for (const [name, user, cursor] of [
      ['no large group, fresh', eve, null],
      ['no large group, since', eve, cursors.eve],
      ['large group, fresh', dan, null],
      ['large group, since', bob, cursors.bob],
    ] as const) {
      counts[name] = [await roundTrips(() => tenQueryDelta(fx.db.pool, user, cursor, 50)), await roundTrips(() => getDelta(fx.db.pool, user, cursor, 50))];
    }
    const since = await getDelta(fx.db.pool, bob, cursors.bob, 50);
    expect(since.items.length).toBe(2);
    console.log('round trips per pull [ten-query, one-statement]:', JSON.stringify(counts));
    for (const [, now] of Object.values(counts)) expect(now).toBe(1);
  });
});

describe('the prepared statement across a projection swap', () => {
  let fx: ProjectionFixture;
  beforeAll(async () => {
    fx = await createProjectionFixture();
  });
  afterAll(async () => fx.close());

  it('reads the schema that holds the name now, not the one it was planned against', async () => {
    const [ann, bob, c] = [newId(), newId(), newId()];
    await fx.runner.catchUp();
    const start = (await getDelta(fx.db.pool, bob, null, 10)).nextCursor;
    await fx.log.direct(c, ann, bob);
    await fx.log.send(c, ann, 'hi');
    await fx.runner.catchUp();
    const client = await fx.db.pool.connect();
    const other = await fx.db.pool.connect();
    try {
      // Past PostgreSQL's five custom plans: the connection holds a generic plan now.
      for (let i = 0; i < 8; i++) expect((await getDelta(client, bob, start, 10)).items).toHaveLength(2);
      // What a rebuild's swap does (rebuild.ts): the live schema renamed away, another one renamed in.
      await other.query(`CREATE SCHEMA proj_inbox_empty`);
      for (const t of ['entries', 'member_periods', 'fanout_modes']) {
        await other.query(`CREATE TABLE proj_inbox_empty.${t} (LIKE proj_inbox.${t} INCLUDING ALL)`);
      }
      await other.query(`BEGIN; ALTER SCHEMA proj_inbox RENAME TO proj_inbox_live; ALTER SCHEMA proj_inbox_empty RENAME TO proj_inbox; COMMIT`);
      try {
        expect((await getDelta(client, bob, start, 10)).items).toEqual([]);
      } finally {
        await other.query(`BEGIN; DROP SCHEMA proj_inbox CASCADE; ALTER SCHEMA proj_inbox_live RENAME TO proj_inbox; COMMIT`);
      }
      expect((await getDelta(client, bob, start, 10)).items).toHaveLength(2);
    } finally {
      client.release();
      other.release();
    }
  });
});
