// The end state every crash and failover test asks for: projections that equal both a rebuild from
// the log and the independent oracle, consecutive inboxSeq per user, and sync walkers that got
// every item exactly once.
import type pg from 'pg';
import { expect } from 'vitest';
import { verifyProjection } from '../../src/projections/index.js';
import type { EventStore } from '../../src/store/eventStore.js';
import { expectedViews } from '../oracle/expectedViews.js';
import { computeOracle } from '../oracle/oracle.js';
import { readWholeLog } from './history.js';
import { readWorldViews, type SyncWalker } from './projectionViews.js';
import { expectSyncComplete } from './syncExpectations.js';

export interface ConvergenceCheck {
  pool: pg.Pool;
  store: EventStore;
  fanoutLimit: number;
  projections: readonly string[];
  users: readonly string[];
  conversationIds: readonly string[];
  walkers: readonly SyncWalker[];
}

export async function expectConvergedWithLog(check: ConvergenceCheck): Promise<void> {
  const { pool, store, fanoutLimit } = check;
  // inboxSeq is consecutive per user (1..n): a repeated batch would leave a duplicate or a hole.
  const inbox = await pool.query<{ user_id: string; entries: number; first: number; last: number }>(
    'SELECT user_id, count(*)::int AS entries, min(inbox_seq)::int AS first, max(inbox_seq)::int AS last FROM proj_inbox.entries GROUP BY user_id',
  );
  expect(inbox.rows.length).toBeGreaterThan(0);
  for (const row of inbox.rows) expect({ user: row.user_id, first: row.first, last: row.last }).toEqual({ user: row.user_id, first: 1, last: row.entries });
  for (const name of check.projections) {
    expect(await verifyProjection({ pool, store, fanoutLimit }, name), `${name} differs from a rebuild`).toEqual([]);
  }
  const oracle = computeOracle(await readWholeLog(store));
  expect(await readWorldViews(pool, { users: check.users, conversationIds: check.conversationIds })).toEqual(
    expectedViews(oracle, check.users, check.conversationIds),
  );
  for (const walker of check.walkers) {
    await walker.pull(7);
    expectSyncComplete(walker, oracle.users.get(walker.userId)?.syncItems ?? [], oracle.users.get(walker.userId));
  }
}
