// The projector killed in a loop while events flow: an API-only `missive serve` takes sends and read
// marks from retrying clients, and a projector-only `missive serve --role projector` is crashed again and
// again — exit and SIGKILL at the failpoint inside a batch (rows and checkpoint written, COMMIT not yet
// run) and SIGKILL from outside at random moments — then restarted. A monitor samples the checkpoints
// all along: each only moves forward and no epoch changes. At the end every projection equals a full
// rebuild from the log, inboxSeq is consecutive per user, and the history holds every acknowledged send.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_PROJECTIONS, readCheckpoints } from '../../src/projections/index.js';
import { freePort } from '../support/freePort.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { auditLog, expectHistoryHasAcks, expectNothingLost, expectProjectionsEqualRebuild, waitForProjections } from './support/ledger.js';
import { attempt, type Attempt } from './support/retryingClient.js';
import { killServe, ServeExitedEarly, startServe, type ServeChild } from './support/serveChild.js';
import { createWorld, startLoad } from './support/world.js';

/**
 * One projector run per entry: the failpoint armed for it, or none (then SIGKILL after 0.2–1.2 s). Six
 * runs: each restart costs seconds on the loaded 2-core CI machine, and the suite's time is bounded.
 */
const RUNS: Array<string | null> = [
  'projection-mid-batch=exit@0.2',
  null,
  'projection-mid-batch=kill@0.2',
  'projection-mid-batch=exit@0.3',
  null,
  'projection-mid-batch=kill@0.3',
];
const FAILPOINT_WAIT_MS = 6_000;
const NAMES = ALL_PROJECTIONS.map((p) => p.name);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs RUNS projectors one after the other, each crashed as its entry says; the last, healthy one keeps running. */
async function crashProjectorRepeatedly(databaseUrl: string, current: (child: ServeChild | undefined) => void) {
  const fired: string[] = [];
  const report: string[] = [];
  const began = Date.now();
  const at = () => `${((Date.now() - began) / 1000).toFixed(1)} s`;
  for (const [run, failpoints] of RUNS.entries()) {
    let projector: ServeChild;
    try {
      projector = await startServe({ databaseUrl, roles: 'projector', env: failpoints ? { MISSIVE_FAILPOINTS: failpoints } : {} });
    } catch (error) {
      // The failpoint may fire while the restarted projector catches up: a crash like the others.
      if (!(error instanceof ServeExitedEarly) || !error.atFailpoint) throw error;
      fired.push(...error.fired);
      report.push(`run ${run} (${at()}): ${failpoints} fired during start-up`);
      continue;
    }
    current(projector);
    if (failpoints) {
      const outcome = await Promise.race([projector.exited, sleep(FAILPOINT_WAIT_MS).then(() => 'timeout' as const)]);
      if (outcome === 'timeout') report.push(`run ${run} (${at()}): ${failpoints} did not fire in ${FAILPOINT_WAIT_MS} ms; killed`);
    } else {
      await sleep(200 + Math.floor(Math.random() * 1000));
    }
    const exit = await killServe(projector);
    current(undefined);
    fired.push(...projector.firedFailpoints());
    report.push(`run ${run} (${at()}): ${failpoints ?? 'SIGKILL from outside'} -> ${exit?.code ?? exit?.signal}, fired ${projector.firedFailpoints().join('; ') || 'none'}`);
  }
  // A last, healthy projector catches up while the clients finish.
  current(await startServe({ databaseUrl, roles: 'projector' }));
  return { fired, report, at };
}

describe('projector killed in a loop while events flow', () => {
  let db: TestDatabase;
  let api: ServeChild | undefined;
  let projector: ServeChild | undefined;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    await killServe(projector);
    await killServe(api);
    await db?.drop();
  });

  it('moves each checkpoint only forward and ends equal to a full rebuild', async () => {
    const port = await freePort();
    const target = { base: () => `http://127.0.0.1:${port}` };
    api = await startServe({ databaseUrl: db.url, port, roles: 'api,gateway' });
    const world = await createWorld(target, { groupSenders: 5, directPairs: 2, tag: 'proj' });

    // The checkpoint monitor: every sample must be >= the previous one, in the same epoch.
    const backwards: string[] = [];
    let samples = 0;
    let advances = 0;
    let monitoring = true;
    let monitorError: unknown;
    const monitor = (async () => {
      const last = new Map<string, { position: bigint; epoch: number }>();
      while (monitoring) {
        // A failed read ends the sampling (and fails the test below) instead of outliving the test's pool.
        const checkpoints = await readCheckpoints(db.pool, NAMES).catch((error: unknown) => {
          monitorError = error;
          monitoring = false;
          return new Map();
        });
        for (const [name, c] of checkpoints) {
          const before = last.get(name);
          if (before && (c.position < before.position || c.epoch !== before.epoch)) {
            backwards.push(`${name}: ${before.position}@${before.epoch} -> ${c.position}@${c.epoch}`);
          }
          if (before && c.position > before.position) advances += 1;
          last.set(name, { position: c.position, epoch: c.epoch });
        }
        samples += 1;
        await sleep(25);
      }
    })();

    let stop = false;
    const log: Attempt[] = [];
    // Paced: events keep flowing through every crash without piling up a log that makes the rebuild check slow.
    const load = startLoad(target, world, () => stop, log, 120);
    // Read marks flow too (the sessions projection folds them): each member marks the group read now and then.
    const groupId = world.senders[0]!.conversationId;
    const marks = (async () => {
      for (let i = 0; !stop; i++) {
        const s = world.senders[i % world.senders.length]!;
        if (s.conversationId === groupId) await attempt(target, 'POST', `/v1/conversations/${groupId}/read`, { token: s.token, body: { seq: 1_000_000 } }, []);
        await sleep(100);
      }
    })();

    const { fired, report, at } = await crashProjectorRepeatedly(db.url, (child) => (projector = child)).finally(() => (stop = true));
    const stats = await load;
    await marks;
    try {
      await waitForProjections(db.pool);
    } finally {
      monitoring = false;
      await monitor;
    }
    report.push(`caught up at ${at()}`);
    const acks = stats.flatMap((s) => s.acks);
    const summary = await auditLog(db.pool, acks);
    console.info(
      [
        `projector loop test: ${RUNS.length} projector crashes (${fired.length} at the mid-batch failpoint), ${summary.acknowledged} acknowledged messages (+ read marks),`,
        `${samples} checkpoint samples, ${advances} advances seen, ${backwards.length} moves backwards; lost ${summary.lost.length}, duplicated ${summary.duplicated.length}, seq gaps ${summary.gaps.length}`,
        ...report,
      ].join('\n  '),
    );

    expect(monitorError, 'the checkpoint monitor failed').toBeUndefined();
    expect(backwards, 'checkpoints that moved backwards or changed epoch').toEqual([]);
    expect(fired.filter((f) => f.startsWith('projection-mid-batch exit')).length).toBeGreaterThan(0);
    expect(fired.filter((f) => f.startsWith('projection-mid-batch kill')).length).toBeGreaterThan(0);
    expectNothingLost(summary);
    const inbox = await db.pool.query(
      'SELECT user_id FROM proj_inbox.entries GROUP BY user_id HAVING max(inbox_seq) <> count(*) OR min(inbox_seq) <> 1',
    );
    expect(inbox.rows, 'users whose inboxSeq is not 1..n').toEqual([]);
    await expectProjectionsEqualRebuild(db.pool);
    await expectHistoryHasAcks(api.base!, (c) => world.readerOf.get(c)!, acks);
  }, 300_000);
});
