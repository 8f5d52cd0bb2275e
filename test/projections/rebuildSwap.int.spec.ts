// Rebuild and verify mechanics (src/projections/rebuild.ts, verify.ts): shadow build and atomic swap,
// epochs, serving during a rebuild, rerun over a leftover shadow, one rebuild at a time, and verify
// reporting tampered rows. (test/projections/rebuild.int.spec.ts checks rebuilds against the oracle.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_PROJECTIONS,
  getDelta,
  getUnread,
  readCheckpoint,
  rebuildProjection,
  RebuildInProgressError,
  ResyncRequiredError,
  UnknownProjectionError,
  verifyProjection,
} from '../../src/projections/index.js';
import { writeRandomHistory } from './randomHistory.js';
import { createProjectionFixture, newId, type ProjectionFixture } from './support.js';

let fx: ProjectionFixture;
beforeAll(async () => {
  fx = await createProjectionFixture({ fanoutLimit: 3, batchSize: 6 });
  await writeRandomHistory(fx.log, { seed: 21, steps: 100, users: Array.from({ length: 6 }, () => newId()), newId });
  await fx.runner.catchUp();
});
afterAll(async () => fx.close());

const deps = () => ({ pool: fx.db.pool, store: fx.store, fanoutLimit: 3, batchSize: 6 });

/** Every row of a projection's tables, as sorted JSON (for equality across builds). */
async function dump(schema: string): Promise<Record<string, string[]>> {
  const tables = await fx.db.pool.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`,
    [schema],
  );
  const out: Record<string, string[]> = {};
  for (const { relname } of tables.rows) {
    const rows = await fx.db.pool.query<{ j: string }>(`SELECT to_jsonb(t)::text AS j FROM "${schema}"."${relname}" t`);
    out[relname] = rows.rows.map((r) => r.j).sort();
  }
  return out;
}

describe('rebuild', () => {
  it('rebuilds each projection to exactly the rows built incrementally, with a new epoch and progress reports', async () => {
    for (const def of ALL_PROJECTIONS) {
      const before = await dump(def.schema);
      const epoch = (await readCheckpoint(fx.db.pool, def.name))!.epoch;
      const progress: number[] = [];
      const result = await rebuildProjection(deps(), def.name, { onProgress: (done) => progress.push(done) });
      expect(result.epoch).toBe(epoch + 1);
      expect(await dump(def.schema)).toEqual(before);
      expect(progress.length).toBeGreaterThan(2);
      expect(progress.at(-1)).toBe(Number(result.position));
    }
    const shadows = await fx.db.pool.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'proj\\_%\\_\\_%'`);
    expect(shadows.rows).toEqual([]);
  });

  it('makes sync cursors of the old inbox epoch resync', async () => {
    const user = newId();
    const { nextCursor } = await getDelta(fx.db.pool, user, null, 5);
    await rebuildProjection(deps(), 'inbox');
    await expect(getDelta(fx.db.pool, user, nextCursor, 5)).rejects.toBeInstanceOf(ResyncRequiredError);
    expect((await getDelta(fx.db.pool, user, null, 5)).nextCursor.epoch).toBe(nextCursor.epoch + 1);
  });

  it('keeps the live projection serving and advancing while it runs, and ends caught up', async () => {
    await fx.runner.start();
    try {
      const [ann, bob] = [newId(), newId()];
      const c = newId();
      await fx.log.direct(c, ann, bob);
      let during: Promise<number> | null = null;
      await rebuildProjection(deps(), 'sessions', {
        onProgress: (done, total) => {
          if (during || done === 0 || done >= total) return;
          // A write and a read while the shadow is being built: the live side keeps working.
          during = fx.log.send(c, ann, 'during the rebuild').then(async () => (await getUnread(fx.db.pool, bob)).total);
        },
      });
      expect(during).not.toBeNull();
      expect(await during).toBeGreaterThanOrEqual(0);
      await fx.log.send(c, ann, 'after the rebuild');
      const deadline = Date.now() + 10_000;
      while ((await getUnread(fx.db.pool, bob)).total !== 2) {
        if (Date.now() > deadline) throw new Error('the live projection did not catch up after the rebuild');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    } finally {
      await fx.runner.stop();
    }
    await fx.runner.catchUp();
    expect(await verifyProjection(deps(), 'sessions')).toEqual([]);
  });

  it('reruns safely over a shadow left behind by an interrupted rebuild', async () => {
    await fx.db.pool.query(`CREATE SCHEMA proj_timeline__shadow; CREATE TABLE proj_timeline__shadow.junk (x int)`);
    await rebuildProjection(deps(), 'timeline');
    expect(await verifyProjection(deps(), 'timeline')).toEqual([]);
    expect((await fx.db.pool.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'proj_timeline__shadow'`)).rowCount).toBe(0);
  });

  it('allows one rebuild of a projection at a time', async () => {
    const results = await Promise.allSettled([rebuildProjection(deps(), 'membership'), rebuildProjection(deps(), 'membership')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(RebuildInProgressError);
  });

  it('rejects an unknown projection name', async () => {
    await expect(rebuildProjection(deps(), 'nope')).rejects.toBeInstanceOf(UnknownProjectionError);
    await expect(verifyProjection(deps(), 'nope')).rejects.toMatchObject({ code: 'unknown_projection' });
  });
});

describe('verify', () => {
  it('reports rows the live read model lost, gained or changed, and leaves no scratch schema', async () => {
    await fx.runner.catchUp();
    expect(await verifyProjection(deps(), 'inbox')).toEqual([]);
    const victim = await fx.db.pool.query(`SELECT user_id, inbox_seq FROM proj_inbox.entries ORDER BY user_id, inbox_seq LIMIT 1`);
    await fx.db.pool.query(`DELETE FROM proj_inbox.entries WHERE user_id = $1 AND inbox_seq = $2`, [victim.rows[0].user_id, victim.rows[0].inbox_seq]);
    await fx.db.pool.query(
      `UPDATE proj_sessions.rows SET unread = unread + 1 WHERE ctid = (SELECT min(ctid) FROM proj_sessions.rows WHERE unread IS NOT NULL)`,
    );
    expect(await verifyProjection(deps(), 'inbox')).toEqual([
      { table: 'entries', kind: 'missing_in_live', row: expect.objectContaining({ user_id: victim.rows[0].user_id }) },
    ]);
    const sessions = await verifyProjection(deps(), 'sessions');
    expect(sessions.map((d) => `${d.table}:${d.kind}`).sort()).toEqual(['rows:missing_in_live', 'rows:unexpected_in_live']);
    expect((await fx.db.pool.query(`SELECT 1 FROM pg_namespace WHERE nspname LIKE '%\\_\\_verify'`)).rowCount).toBe(0);
    await rebuildProjection(deps(), 'inbox');
    await rebuildProjection(deps(), 'sessions');
    expect(await verifyProjection(deps(), 'inbox')).toEqual([]);
    expect(await verifyProjection(deps(), 'sessions')).toEqual([]);
  });
});
