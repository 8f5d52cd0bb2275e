import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import {
  ALL_PROJECTIONS,
  createProjectionRunner,
  ensureProjectionSchemas,
  getUnread,
  readCheckpoint,
  verifyProjection,
  type ProjectionDefinition,
} from '../../src/projections/index.js';
import { applyLiveBatch } from '../../src/projections/applyBatch.js';
import { PROJECTION_LOCK_NAMESPACE, rebuildLockKey } from '../../src/projections/locks.js';
import type { RecordedEvent } from '../../src/store/eventStore.js';
import { readWholeLog } from '../support/history.js';
import { referenceViews } from './reference.js';
import { writeRandomHistory } from './randomHistory.js';
import { createProjectionFixture, newId, type ProjectionFixture } from './support.js';
import { createTestDatabase } from '../support/postgres.js';

let fx: ProjectionFixture;
beforeAll(async () => {
  fx = await createProjectionFixture({ fanoutLimit: 3, batchSize: 5 });
});
afterAll(async () => fx.close());

const deps = () => ({ pool: fx.db.pool, store: fx.store, fanoutLimit: 3 });

async function expectAllVerified(): Promise<void> {
  for (const def of ALL_PROJECTIONS) expect(await verifyProjection(deps(), def.name), def.name).toEqual([]);
}

/** Every user's inbox numbers are exactly 1..n. */
async function expectConsecutiveInboxSeqs(): Promise<void> {
  const gaps = await fx.db.pool.query(
    `SELECT user_id FROM proj_inbox.entries GROUP BY user_id HAVING max(inbox_seq) <> count(*) OR min(inbox_seq) <> 1
     UNION ALL SELECT h.user_id FROM proj_inbox.heads h WHERE h.inbox_seq <> (SELECT count(*) FROM proj_inbox.entries e WHERE e.user_id = h.user_id)`,
  );
  expect(gaps.rows).toEqual([]);
}

async function expectUnreadMatchesReference(users: string[]): Promise<void> {
  const reference = referenceViews(await readWholeLog(fx.store));
  for (const u of users) {
    let total = 0;
    for (const [key, view] of reference) if (key.startsWith(`${u}|`) && view.isMember) total += view.unread;
    expect((await getUnread(fx.db.pool, u)).total, `total of ${u}`).toBe(total);
  }
}

/** Wraps every projection so that applying fails once the run has seen `failAfter` events. */
function failingAfter(failAfter: number): { projections: ProjectionDefinition[]; failures: () => number } {
  let seen = 0;
  let failures = 0;
  const projections = ALL_PROJECTIONS.map((def) => ({
    ...def,
    async apply(client: pg.ClientBase, events: readonly RecordedEvent[], ctx: { schema: string; fanoutLimit: number }) {
      await def.apply(client, events, ctx); // the writes happen, then the "crash" rolls them back
      seen += events.length;
      if (seen > failAfter) {
        failures += 1;
        throw new Error('simulated crash in the middle of a batch');
      }
    },
  }));
  return { projections, failures: () => failures };
}

describe('projection runtime', () => {
  it('two runners on the same projections never apply a batch twice (compare-and-set on the checkpoint)', async () => {
    const users = Array.from({ length: 6 }, () => newId());
    await writeRandomHistory(fx.log, { seed: 11, steps: 80, users, newId });
    const second = createProjectionRunner({ pool: fx.db.pool, store: fx.store, fanoutLimit: 3, batchSize: 3 });
    await Promise.all([fx.runner.catchUp(), second.catchUp(), fx.runner.catchUp()]);
    await expectConsecutiveInboxSeqs();
    await expectAllVerified();
    await expectUnreadMatchesReference(users);
  });

  it('a stale checkpoint loses the compare-and-set and writes nothing', async () => {
    const c = newId();
    await fx.log.direct(c, newId(), newId());
    await fx.runner.catchUp();
    const def = ALL_PROJECTIONS.find((p) => p.name === 'timeline')!;
    const current = (await readCheckpoint(fx.db.pool, 'timeline'))!;
    const events = (await fx.store.readAll({ after: 0n, maxCount: 3 })).events;
    const stale = { ...current, position: 0n };
    expect(await applyLiveBatch(fx.db.pool, def, stale, events, events.at(-1)!.globalPosition, 3)).toBeNull();
    expect((await readCheckpoint(fx.db.pool, 'timeline'))!.position).toBe(current.position);
    expect(await verifyProjection(deps(), 'timeline')).toEqual([]);
  });

  it('a crash in the middle of a batch loses and repeats nothing once resumed', async () => {
    const users = Array.from({ length: 6 }, () => newId());
    const before = await fx.store.headPosition();
    await writeRandomHistory(fx.log, { seed: 12, steps: 60, users, newId });
    const crashing = failingAfter(23);
    const crashingRunner = createProjectionRunner({ pool: fx.db.pool, store: fx.store, fanoutLimit: 3, batchSize: 4, projections: crashing.projections });
    await expect(crashingRunner.catchUp()).rejects.toThrow('simulated crash');
    expect(crashing.failures()).toBeGreaterThan(0);
    // Whatever was committed is a prefix of the log: no checkpoint passed the head, none is torn.
    const stuck = await Promise.all(ALL_PROJECTIONS.map((p) => readCheckpoint(fx.db.pool, p.name)));
    expect(stuck.some((c) => c!.position < (before > 0n ? before : 1n) + 23n)).toBe(true);
    await expectAllVerified();

    await fx.runner.catchUp();
    await expectConsecutiveInboxSeqs();
    await expectAllVerified();
    await expectUnreadMatchesReference(users);
  });

  it('follows the log when started, reports each committed batch, and stops', async () => {
    const applied: string[] = [];
    const runner = createProjectionRunner({
      pool: fx.db.pool,
      store: fx.store,
      fanoutLimit: 3,
      pollIntervalMs: 50,
      onApplied: (name) => {
        applied.push(name);
      },
    });
    await runner.catchUp();
    await runner.start();
    try {
      const c = newId();
      const [ann, bob] = [newId(), newId()];
      await fx.log.direct(c, ann, bob);
      await fx.log.send(c, ann, 'live');
      const deadline = Date.now() + 10_000;
      // onApplied runs just after the commit that readers may already see: wait for both.
      while ((await getUnread(fx.db.pool, bob)).total !== 1 || !applied.includes('sessions')) {
        if (Date.now() > deadline) throw new Error('the running projector did not apply and report the send');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const status = await runner.status();
      expect(status.map((s) => s.name)).toEqual(['membership', 'timeline', 'inbox', 'sessions']);
      for (const s of status) expect(['running', 'behind']).toContain(s.state);
    } finally {
      await runner.stop();
    }
    const stopped = await createProjectionRunner({ pool: fx.db.pool, store: fx.store, fanoutLimit: 3 }).status();
    expect(stopped.every((s) => typeof s.checkpoint === 'bigint' && s.lagEvents >= 0)).toBe(true);
  });

  it('reports a projection built by another version as behind, and rebuilds it before running it', async () => {
    await fx.runner.catchUp();
    const epoch = (await readCheckpoint(fx.db.pool, 'membership'))!.epoch;
    await fx.db.pool.query(`UPDATE projection_checkpoints SET version = 0 WHERE name = 'membership'`);
    const status = await fx.runner.status();
    expect(status.find((s) => s.name === 'membership')).toMatchObject({ state: 'behind', needsRebuild: true });
    await fx.runner.catchUp();
    const after = (await readCheckpoint(fx.db.pool, 'membership'))!;
    expect(after.version).toBe(ALL_PROJECTIONS.find((p) => p.name === 'membership')!.version);
    expect(after.epoch).toBe(epoch + 1);
    expect(await verifyProjection(deps(), 'membership')).toEqual([]);
  });

  it('recreates a lost schema empty, with its checkpoint at 0 and a new epoch, and refills it', async () => {
    await fx.runner.catchUp();
    const before = (await readCheckpoint(fx.db.pool, 'timeline'))!;
    await fx.db.pool.query('DROP SCHEMA proj_timeline CASCADE');
    await ensureProjectionSchemas(fx.db.pool);
    await ensureProjectionSchemas(fx.db.pool); // idempotent
    const after = (await readCheckpoint(fx.db.pool, 'timeline'))!;
    expect(after).toMatchObject({ position: 0n, epoch: before.epoch + 1 });
    await fx.runner.catchUp();
    expect((await readCheckpoint(fx.db.pool, 'timeline'))!.position).toBe(before.position);
    expect(await verifyProjection(deps(), 'timeline')).toEqual([]);
  });

  it('reports a projection as rebuilding while a rebuild holds its lock', async () => {
    const session = await fx.db.pool.connect();
    try {
      await session.query('SELECT pg_advisory_lock($1, $2)', [PROJECTION_LOCK_NAMESPACE, rebuildLockKey('inbox')]);
      const status = await fx.runner.status();
      expect(status.find((s) => s.name === 'inbox')!.state).toBe('rebuilding');
      expect(status.find((s) => s.name === 'timeline')!.state).not.toBe('rebuilding');
    } finally {
      await session.query('SELECT pg_advisory_unlock_all()');
      session.release();
    }
  });

  it('does not mistake a rebuild in another database on the same server for one of its own', async () => {
    const neighbour = await createTestDatabase();
    const session = await neighbour.pool.connect();
    try {
      await session.query('SELECT pg_advisory_lock($1, $2)', [PROJECTION_LOCK_NAMESPACE, rebuildLockKey('inbox')]);
      const status = await fx.runner.status();
      expect(status.find((s) => s.name === 'inbox')!.state).not.toBe('rebuilding');
    } finally {
      await session.query('SELECT pg_advisory_unlock_all()');
      session.release();
      await neighbour.drop();
    }
  });
});
