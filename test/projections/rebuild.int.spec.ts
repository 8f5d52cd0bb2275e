// Rebuild (src/projections/README.md): replaying the log into a shadow schema and swapping it in
// must give exactly the views the incremental run gave, bump the epoch (so old sync cursors are
// refused), and converge to the oracle even while events keep arriving and the live projector runs.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_PROJECTIONS,
  RebuildInProgressError,
  ResyncRequiredError,
  createProjectionRunner,
  getDelta,
  readCheckpoint,
  readCheckpoints,
  rebuildProjection,
  verifyProjection,
  type ProjectionDeps,
} from '../../src/projections/index.js';
import { createPostgresEventStore } from '../../src/store/postgres/postgresEventStore.js';
import type { EventStore } from '../../src/store/eventStore.js';
import { expectedViews } from '../oracle/expectedViews.js';
import { historyOf, scriptArbitrary, type GeneratedHistory } from '../oracle/generators.js';
import { computeOracle } from '../oracle/oracle.js';
import { appendHistory, readWholeLog, resetWorld } from '../support/history.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { readWorldViews } from '../support/projectionViews.js';

const FANOUT_LIMIT = 3;
const PROJECTION_SCHEMAS = ALL_PROJECTIONS.map((p) => p.schema);
const PROJECTION_NAMES = ALL_PROJECTIONS.map((p) => p.name);

/** A fixed, busy history (groups crossing the fan-out limit, edits, recalls, departures). */
function busyHistory(seed: number): GeneratedHistory {
  const [script] = fc.sample(scriptArbitrary({ minSteps: 160, maxSteps: 200 }), { numRuns: 1, seed });
  return historyOf(script!);
}

describe('rebuilding projections', () => {
  let db: TestDatabase;
  let store: EventStore;
  let deps: ProjectionDeps;

  beforeAll(async () => {
    db = await createTestDatabase();
    store = createPostgresEventStore({ pool: db.pool, notify: false });
    // Small batches make a rebuild take many transactions, so appends land in the middle of it.
    deps = { pool: db.pool, store, fanoutLimit: FANOUT_LIMIT, batchSize: 4 };
  });

  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('gives the same views as the incremental run, bumps the epoch and refuses older sync cursors', async () => {
    const { users, conversationIds, appends } = busyHistory(11);
    const runner = createProjectionRunner({ ...deps, batchSize: 7 });
    await runner.catchUp();
    const cursorBefore = (await getDelta(db.pool, users[0]!, null, 10)).nextCursor;
    await appendHistory(store, appends);
    await runner.catchUp();
    const incremental = await readWorldViews(db.pool, { users, conversationIds });
    expect(incremental).toEqual(expectedViews(computeOracle(await readWholeLog(store)), users, conversationIds));

    for (const name of PROJECTION_NAMES) {
      const before = (await readCheckpoint(db.pool, name))!;
      const result = await rebuildProjection(deps, name);
      const after = (await readCheckpoint(db.pool, name))!;
      expect({ epoch: result.epoch, position: after.position }).toEqual({ epoch: before.epoch + 1, position: before.position });
      expect(after.epoch).toBe(before.epoch + 1);
      expect(await readWorldViews(db.pool, { users, conversationIds }), `views after rebuilding ${name}`).toEqual(incremental);
    }
    // The sync epoch is the inbox's: a cursor from before its rebuild must start over.
    await expect(getDelta(db.pool, users[0]!, cursorBefore, 10)).rejects.toBeInstanceOf(ResyncRequiredError);
    await runner.catchUp(); // the incremental runner goes on from the swapped checkpoints
    expect(await readWorldViews(db.pool, { users, conversationIds })).toEqual(incremental);
  });

  it('converges while events are appended and the live projector runs during every rebuild', async () => {
    await resetWorld(db.pool, PROJECTION_SCHEMAS);
    const { users, conversationIds, appends } = busyHistory(12);
    const half = Math.floor(appends.length / 2);
    const heads = new Map<string, number>();
    await appendHistory(store, appends.slice(0, half), heads);
    const runner = createProjectionRunner({ ...deps, pollIntervalMs: 20 });
    await runner.start();

    // Each rebuild gets its share of the rest of the history, appended one command at a time while it runs.
    const rest = appends.slice(half);
    const share = Math.ceil(rest.length / PROJECTION_NAMES.length);
    const appendedDuring: number[] = [];
    for (const [index, name] of PROJECTION_NAMES.entries()) {
      // A second rebuild of the same projection at the same time is refused, not interleaved.
      let rebuilding = true;
      const rebuilds = Promise.allSettled([rebuildProjection(deps, name), rebuildProjection(deps, name)]).finally(() => (rebuilding = false));
      let appendedWhileRebuilding = 0;
      for (const append of rest.slice(index * share, (index + 1) * share)) {
        await appendHistory(store, [append], heads);
        if (rebuilding) appendedWhileRebuilding++;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const [first, second] = await rebuilds;
      appendedDuring.push(appendedWhileRebuilding);
      expect([first, second].filter((o) => o.status === 'fulfilled'), `rebuilds of ${name} that ran`).toHaveLength(1);
      const refused = [first, second].find((o) => o.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toBeInstanceOf(RebuildInProgressError);
    }
    await runner.stop();
    await runner.catchUp();
    expect(appendedDuring.every((n) => n > 0), `commands appended while each rebuild ran: ${appendedDuring.join(', ')}`).toBe(true);

    const head = await store.headPosition();
    const checkpoints = await readCheckpoints(db.pool, PROJECTION_NAMES);
    for (const name of PROJECTION_NAMES) expect(checkpoints.get(name)!.position, `${name} checkpoint`).toBe(head);
    const oracle = computeOracle(await readWholeLog(store));
    expect(await readWorldViews(db.pool, { users, conversationIds })).toEqual(expectedViews(oracle, users, conversationIds));
    for (const name of PROJECTION_NAMES) expect(await verifyProjection(deps, name), `${name} differs from a rebuild`).toEqual([]);
  }, 60_000);
});
