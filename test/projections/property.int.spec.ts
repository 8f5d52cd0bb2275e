// The projections against the oracle (test/oracle/oracle.ts), on real PostgreSQL: fast-check
// generates a history in a small world whose groups cross a fan-out limit of 3 both ways, writes it
// into the PostgreSQL event store in two parts with the runner catching up in between, and then every
// view — members, whole histories paged both ways, unread, session lists, and sync walks of devices
// that started on the empty store or halfway — must equal what the oracle computes from the log.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_PROJECTIONS, createProjectionRunner } from '../../src/projections/index.js';
import { createPostgresEventStore } from '../../src/store/postgres/postgresEventStore.js';
import type { EventStore } from '../../src/store/eventStore.js';
import { expectedHistoryItem, expectedViews } from '../oracle/expectedViews.js';
import { historyOf, scriptArbitrary } from '../oracle/generators.js';
import { computeOracle } from '../oracle/oracle.js';
import { appendHistoryInParts, readWholeLog, resetWorld } from '../support/history.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { readHistoryBackwards, readWorldViews, startSyncWalker, type SyncWalker } from '../support/projectionViews.js';
import { expectSyncComplete } from '../support/syncExpectations.js';

const FANOUT_LIMIT = 3;
const PROJECTION_SCHEMAS = ALL_PROJECTIONS.map((p) => p.schema);
const NUM_RUNS = 25;
/** Runs (and shrinking) stop starting after this, so the file stays well under a minute. */
const TIME_BUDGET_MS = 35_000;
const MIN_RUNS = 8;

const scenarioArbitrary = fc.record({
  script: scriptArbitrary({ maxSteps: 100 }),
  /** Where the history is cut: the runner catches up and devices sync in between. */
  split: fc.double({ min: 0, max: 1, noNaN: true }),
  /** Small batches put batch boundaries everywhere (fan-out switches, edits of earlier batches). */
  batchSize: fc.constantFrom(1, 2, 5, 13, 500),
  syncLimit: fc.integer({ min: 2, max: 8 }),
  /** Pages the devices that started on the empty store pull between the two parts. */
  pagesBetweenParts: fc.integer({ min: 0, max: 3 }),
});

/** The paths where an assertion's actual and expected differ (at most 20), else its message. */
function describeMismatch(error: unknown): string {
  const { actual, expected, message } = (error ?? {}) as { actual?: unknown; expected?: unknown; message?: string };
  if (actual === undefined && expected === undefined) return String(message ?? error);
  const found: string[] = [];
  const walk = (a: unknown, e: unknown, path: string): void => {
    if (found.length >= 20) return;
    if (a !== null && e !== null && typeof a === 'object' && typeof e === 'object') {
      for (const key of new Set([...Object.keys(a), ...Object.keys(e)])) walk((a as Record<string, unknown>)[key], (e as Record<string, unknown>)[key], `${path}.${key}`);
    } else if (!Object.is(a, e)) {
      found.push(`${path}: actual ${JSON.stringify(a, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))} expected ${JSON.stringify(e, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
    }
  };
  walk(actual, expected, '');
  return `${String(message).split('\n')[0]}\n${found.join('\n')}`;
}

type Scenario = typeof scenarioArbitrary extends fc.Arbitrary<infer T> ? T : never;

/**
 * Run first, whatever the seed: a group of 3 (write fan-out) grows to 4 (read fan-out) and shrinks
 * back to 3 by removing the newcomer, with a message in each phase.
 */
const UP_AND_DOWN: Scenario = {
  script: {
    userCount: 4,
    steps: [
      { op: 'createGroup', owner: 0, others: [1, 2], name: 0 }, // u1 (owner), u2, u3
      { op: 'send', conv: 0, kind: 'text', actor: 0, outsider: false }, // seq 2, write mode
      { op: 'addMembers', conv: 0, users: [3], actor: 0, outsider: false }, // seq 3: u4 joins, 4 members: read mode
      { op: 'send', conv: 0, kind: 'text', actor: 0, outsider: false }, // seq 4, read mode
      { op: 'removeMember', conv: 0, target: 3, actor: 0, outsider: false }, // seq 5: u4 removed, 3 members: write mode
      { op: 'send', conv: 0, kind: 'text', actor: 0, outsider: false }, // seq 6, write mode
    ],
  },
  split: 0,
  batchSize: 500,
  syncLimit: 10,
  pagesBetweenParts: 0,
};

/** A message stored by one batch, then edited and recalled within a later batch: editedAt stays (README). */
const EDIT_THEN_RECALL_LATER_BATCH: Scenario = {
  script: {
    userCount: 4,
    steps: [
      { op: 'createGroup', owner: 0, others: [1], name: 0 }, // u1 (owner), u2
      { op: 'send', conv: 0, kind: 'text', actor: 0, outsider: false }, // seq 2
      { op: 'edit', conv: 0, message: 0, actor: 0, outsider: false }, // seq 3 edits seq 2
      { op: 'recall', conv: 0, message: 0, actor: 0, outsider: false }, // seq 4 recalls seq 2
    ],
  },
  split: 0.5, // seqs 1-2 are projected first, seqs 3-4 in one later batch
  batchSize: 500,
  syncLimit: 10,
  pagesBetweenParts: 0,
};

describe('projections equal the oracle computed from the log', () => {
  let db: TestDatabase;
  let store: EventStore;

  beforeAll(async () => {
    db = await createTestDatabase();
    store = createPostgresEventStore({ pool: db.pool, notify: false });
  });

  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  async function checkScenario({ script, split, batchSize, syncLimit, pagesBetweenParts }: Scenario): Promise<void> {
    const { users, conversationIds, appends } = historyOf(script);
    await resetWorld(db.pool, PROJECTION_SCHEMAS);
    const runner = createProjectionRunner({ pool: db.pool, store, fanoutLimit: FANOUT_LIMIT, batchSize });
    await runner.catchUp();
    // Devices whose cursor predates every event: they must receive every item of their periods.
    const early = await Promise.all(users.map((u) => startSyncWalker(db.pool, u)));
    let midway: SyncWalker[] = [];
    let midwayPosition = 0n;
    await appendHistoryInParts(store, appends, Math.floor(split * appends.length), async (firstPartEnd) => {
      await runner.catchUp();
      if (pagesBetweenParts > 0) for (const walker of early) await walker.pull(syncLimit, pagesBetweenParts);
      midwayPosition = firstPartEnd;
      midway = await Promise.all(users.map((u) => startSyncWalker(db.pool, u)));
    });
    await runner.catchUp();

    const oracle = computeOracle(await readWholeLog(store));
    const views = await readWorldViews(db.pool, { users, conversationIds, pageSize: 4 });
    expect(views).toEqual(expectedViews(oracle, users, conversationIds));
    for (const conversationId of conversationIds) {
      const expected = oracle.conversations.get(conversationId)!.items.map(expectedHistoryItem);
      expect(await readHistoryBackwards(db.pool, conversationId, 3), `history of ${conversationId} read backwards`).toEqual(expected);
    }
    for (const walker of [...early, ...midway]) await walker.pull(syncLimit);
    for (const walker of early) expectSyncComplete(walker, oracle.users.get(walker.userId)?.syncItems ?? [], oracle.users.get(walker.userId));
    for (const walker of midway) {
      const user = oracle.users.get(walker.userId);
      expectSyncComplete(walker, (user?.syncItems ?? []).filter((i) => i.globalPosition > midwayPosition), user);
    }
  }

  it('members, histories, unread, session lists and sync walks, with the log appended in two parts', async () => {
    const deadline = Date.now() + TIME_BUDGET_MS;
    let executed = 0;
    // Past the deadline a run passes without running: normal runs stop, and shrinking keeps the
    // smallest failure found so far (fast-check's own time limit would leave a run going in the background).
    const outcome = await fc.check(
      fc.asyncProperty(scenarioArbitrary, async (scenario) => {
        if (Date.now() > deadline) return;
        executed++;
        await checkScenario(scenario);
      }),
      { numRuns: NUM_RUNS, examples: [[UP_AND_DOWN], [EDIT_THEN_RECALL_LATER_BATCH]] },
    );
    if (outcome.failed) {
      const scenario = outcome.counterexample![0]!;
      console.error(`Projection property failed (seed ${outcome.seed}, path ${outcome.counterexamplePath}); shrunk scenario:\n${fc.stringify(scenario)}`);
      // The failure as it happened, in case a replay passes (a timing-dependent fault).
      console.error(`Failure: ${describeMismatch(outcome.errorInstance)}`);
      // Replayed outside fast-check so the assertion shows its full diff.
      await checkScenario(scenario);
      expect.fail(`the counterexample passed when replayed: ${String(outcome.errorInstance)}`);
    }
    expect(executed, 'runs completed within the time budget').toBeGreaterThanOrEqual(MIN_RUNS);
  }, 90_000);
});
