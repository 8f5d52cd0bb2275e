import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_PROJECTIONS, getDelta, getUnread, listConversations, verifyProjection, type DeltaItem, type SyncCursor } from '../../../src/projections/index.js';
import { readWholeLog } from '../../support/history.js';
import { referenceViews } from '../reference.js';
import { writeRandomHistory } from '../randomHistory.js';
import { createProjectionFixture, newId, type ProjectionFixture } from '../support.js';

/** Writes a random history (catching up and syncing at random pauses), then compares every view with the reference. */
async function checkAgainstReference(fx: ProjectionFixture, fanoutLimit: number, seed: number, readShare: number): Promise<void> {
  const users = Array.from({ length: 6 }, () => newId());
  const cursors = new Map<string, SyncCursor>();
  const received = new Map<string, DeltaItem[]>();
  for (const u of users) cursors.set(u, (await getDelta(fx.db.pool, u, null, 5)).nextCursor);
  const syncUser = async (u: string) => {
    for (let page = 0; page < 200; page++) {
      const delta = await getDelta(fx.db.pool, u, cursors.get(u)!, 4);
      received.set(u, [...(received.get(u) ?? []), ...delta.items]);
      cursors.set(u, delta.nextCursor);
      if (!delta.hasMore) return;
    }
    throw new Error('sync did not finish');
  };

  await writeRandomHistory(fx.log, {
    seed,
    readShare,
    steps: 120,
    users,
    newId,
    pauseChance: 0.15,
    onPause: async (step) => {
      await fx.runner.catchUp();
      await syncUser(users[step % users.length]!);
    },
  });
  await fx.runner.catchUp();
  for (const u of users) await syncUser(u);

  const reference = referenceViews(await readWholeLog(fx.store));
  for (const u of users) {
    const rows = (await listConversations(fx.db.pool, u, { limit: 100 })).items;
    const unread = await getUnread(fx.db.pool, u);
    let expectedTotal = 0;
    for (const [key, view] of reference) {
      if (!key.startsWith(`${u}|`)) continue;
      const c = key.slice(u.length + 1);
      const row = rows.find((r) => r.conversationId === c);
      expect(row, `row ${key}`).toBeDefined();
      expect({ unread: row!.unread, active: row!.active, lastSeq: row!.lastSeq, lastReadSeq: row!.lastReadSeq }, `row ${key}`).toEqual({
        unread: view.unread,
        active: view.isMember,
        lastSeq: view.lastSeqSeen,
        lastReadSeq: view.readMark,
      });
      if (view.isMember) expectedTotal += view.unread;
      const seqs = (received.get(u) ?? []).filter((i) => i.type === 'item' && i.conversationId === c).map((i) => (i.type === 'item' ? i.seq : 0));
      expect(seqs, `delivered ${key}`).toEqual(view.delivered); // in seq order, each exactly once
    }
    expect(unread.total).toBe(expectedTotal);
  }
  // Incremental (small batches, cut anywhere) equals a rebuild from the log.
  for (const def of ALL_PROJECTIONS) {
    expect(await verifyProjection({ pool: fx.db.pool, store: fx.store, fanoutLimit }, def.name), def.name).toEqual([]);
  }
}

describe('random histories across a fan-out limit of 3 (frequent mode switches)', () => {
  let fx: ProjectionFixture;
  beforeAll(async () => {
    fx = await createProjectionFixture({ fanoutLimit: 3, batchSize: 7 });
  });
  afterAll(async () => fx.close());

  for (const [seed, readShare] of [[1, 0.18], [2, 0.18], [3, 0.02]] as const) {
    it(`seed ${seed}, read share ${readShare}: unread, session rows and sync deliveries match the log`, async () => {
      await checkAgainstReference(fx, 3, seed, readShare);
      const modes = await fx.db.pool.query(`SELECT count(*) FILTER (WHERE mode = 'read')::int AS reads FROM proj_inbox.fanout_modes`);
      expect(modes.rows[0].reads).toBeGreaterThan(0); // read fan-out was exercised
    });
  }
});

describe('random histories in write fan-out only (stored counters never recounted by a switch)', () => {
  let fx: ProjectionFixture;
  beforeAll(async () => {
    fx = await createProjectionFixture({ fanoutLimit: 100, batchSize: 7 });
  });
  afterAll(async () => fx.close());

  for (const seed of [4, 5]) {
    it(`seed ${seed}: unread, session rows and sync deliveries match the log`, async () => {
      await checkAgainstReference(fx, 100, seed, 0.03);
    });
  }
});
