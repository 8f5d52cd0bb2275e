// PostgreSQL stopped the hard way (SIGQUIT to the postmaster: `pg_ctl stop -m immediate`) while clients
// send, then started again (crash recovery). While it is down the service must answer fast with 503
// store_unavailable (and Retry-After) instead of hanging; afterwards nothing acknowledged is lost or
// duplicated, seqs have no hole, and the projections equal a rebuild. Runs on its own PostgreSQL.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/freePort.js';
import { startDedicatedPostgres, type DedicatedPostgres } from './support/dedicatedPostgres.js';
import { auditLog, expectHistoryHasAcks, expectNothingLost, expectProjectionsEqualRebuild, waitForProjections } from './support/ledger.js';
import { attempt, type Attempt } from './support/retryingClient.js';
import { killServe, startServe, type ServeChild } from './support/serveChild.js';
import { createWorld, startLoad } from './support/world.js';

const OUTAGES = 2;
const DOWN_MS = 4_000;
/** "Fail fast": no request may wait longer than this while the database is down. */
const MAX_WAIT_WHILE_DOWN_MS = 2_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PostgreSQL stopped immediately and restarted under load', () => {
  let postgres: DedicatedPostgres;
  let pool: pg.Pool;
  let server: ServeChild | undefined;
  beforeAll(async () => {
    postgres = await startDedicatedPostgres();
    pool = new pg.Pool({ connectionString: postgres.url, max: 4 });
    pool.on('error', () => {});
  });
  afterAll(async () => {
    await killServe(server);
    await pool?.end();
    await postgres?.close();
  });

  it('answers 503 store_unavailable fast while it is down, then loses and duplicates nothing', async () => {
    const port = await freePort();
    const target = { base: () => `http://127.0.0.1:${port}` };
    server = await startServe({ databaseUrl: postgres.url, port });
    const world = await createWorld(target, { groupSenders: 6, directPairs: 2, tag: 'pgdown' });

    let stop = false;
    const log: Attempt[] = [];
    const reads: Attempt[] = [];
    const load = startLoad(target, world, () => stop, log);
    // A reader polling history and readiness alongside the senders.
    const [readConversation, readToken] = [...world.readerOf.entries()][0]!;
    const reader = (async () => {
      while (!stop) {
        await attempt(target, 'GET', `/v1/conversations/${readConversation}/messages?limit=20`, { token: readToken }, reads);
        await attempt(target, 'GET', '/readyz', {}, reads);
        await sleep(20);
      }
    })();

    const windows: Array<{ from: number; to: number }> = [];
    for (let outage = 0; outage < OUTAGES; outage++) {
      await sleep(1_500);
      const from = Date.now();
      await postgres.stopImmediately();
      await sleep(DOWN_MS);
      // The window ends when the restart begins: from then on a request may wait for crash recovery.
      windows.push({ from, to: Date.now() });
      await postgres.start();
    }
    await sleep(2_000);
    stop = true;
    const stats = await load.catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\nserve stderr: ${server?.stderr().slice(-4000)}`);
    });
    await reader;
    const acks = stats.flatMap((s) => s.acks);

    const during = (a: Attempt) => windows.some((w) => a.startedAt >= w.from && a.startedAt < w.to);
    const whileDown = [...log, ...reads].filter(during);
    const longestWhileDown = Math.max(...whileDown.map((a) => a.ms));
    const longestOverall = Math.max(...[...log, ...reads].map((a) => a.ms));
    const statuses = new Map<string, number>();
    for (const a of whileDown) statuses.set(`${a.status} ${a.code ?? ''}`.trim(), (statuses.get(`${a.status} ${a.code ?? ''}`.trim()) ?? 0) + 1);
    const summary = await auditLog(pool, acks);
    console.info(
      [
        `PostgreSQL outage test: ${OUTAGES} immediate stops of ${DOWN_MS} ms, ${summary.acknowledged} acknowledged messages (${summary.storedMessages} stored) in ${summary.conversations} conversations,`,
        `${whileDown.length} requests while down: ${[...statuses].map(([k, n]) => `${n}× ${k}`).join(', ')};`,
        `longest wait while down ${longestWhileDown} ms, longest wait of any request in the test ${longestOverall} ms;`,
        `lost ${summary.lost.length}, duplicated ${summary.duplicated.length}, seq gaps ${summary.gaps.length}`,
      ].join('\n  '),
    );

    expect(whileDown.length).toBeGreaterThan(50);
    // Every request answered while the database was down: fast, and either served before the stop
    // reached it or refused as retryable: 503 store_unavailable, or the readiness probe's own 503.
    expect(longestWhileDown).toBeLessThan(MAX_WAIT_WHILE_DOWN_MS);
    for (const a of whileDown) {
      expect(a.status === 200 || a.status === 201 || (a.status === 503 && (a.code === 'store_unavailable' || a.code === undefined)), `${a.status} ${a.code}`).toBe(true);
    }
    expect(whileDown.filter((a) => a.status === 503 && a.code === 'store_unavailable').length).toBeGreaterThan(0);

    expect(stats.flatMap((s) => s.seqMismatches), 're-sends answered with another seq').toEqual([]);
    expectNothingLost(summary);
    expect(summary.storedMessages).toBe(summary.acknowledged);
    await waitForProjections(pool);
    await expectProjectionsEqualRebuild(pool);
    await expectHistoryHasAcks(server.base!, (c) => world.readerOf.get(c)!, acks);
  }, 240_000);
});
