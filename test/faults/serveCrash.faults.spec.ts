// `missive serve` crashed again and again under concurrent sends from clients that retry like real
// clients (same clientMsgId until acknowledged): at each failpoint (right after the append committed and
// before the reply; inside a projection batch before its COMMIT), by exit and by SIGKILL, and by SIGKILL
// from outside at random moments. Each cycle restarts the service on the same database. At the end:
// every acknowledged message is in the log exactly once at the seq its client got, re-sends got the
// original seq, no seq has a hole, and every projection equals a rebuild from the log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/freePort.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { auditLog, expectHistoryHasAcks, expectNothingLost, expectProjectionsEqualRebuild, waitForProjections } from './support/ledger.js';
import { killServe, ServeExitedEarly, startServe, type ServeChild } from './support/serveChild.js';
import { sendUntilAcked, textOf, type Attempt } from './support/retryingClient.js';
import { createWorld, startLoad } from './support/world.js';

/** One crash per entry: a failpoint armed for that run, or none (then a SIGKILL after a random 0.3–1.5 s of load). */
const CYCLES: Array<string | null> = [
  null, // the first run is the unarmed one the conversations were made with
  'after-commit-before-reply=exit@0.05',
  'projection-mid-batch=exit@0.1',
  'after-commit-before-reply=kill@0.1',
  null,
  'projection-mid-batch=kill@0.2',
  'after-commit-before-reply=exit:after=25',
  null,
];
/** A failpoint that has not fired after this long under load is killed from outside (and counted as not fired). */
const FAILPOINT_WAIT_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('serve crashed under load, at each failpoint and at random moments', () => {
  let db: TestDatabase;
  let port: number;
  let server: ServeChild | undefined;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    port = await freePort();
  });
  afterAll(async () => {
    await killServe(server);
    await db?.drop();
  });

  it('loses, duplicates and reorders nothing acknowledged; re-sends get the original seq; projections equal a rebuild', async () => {
    const target = { base: () => `http://127.0.0.1:${port}` };
    server = await startServe({ databaseUrl: db.url, port });
    const world = await createWorld(target, { groupSenders: 6, directPairs: 2, tag: 'crash' });

    let stop = false;
    const log: Attempt[] = [];
    const load = startLoad(target, world, () => stop, log);
    const fired: string[] = [];
    const report: string[] = [];
    for (const [cycle, failpoints] of CYCLES.entries()) {
      if (!server) {
        try {
          server = await startServe({ databaseUrl: db.url, port, env: failpoints ? { MISSIVE_FAILPOINTS: failpoints } : {} });
        } catch (error) {
          // A projection failpoint may fire while the restarted projector catches up: that is a crash too.
          if (!(error instanceof ServeExitedEarly) || !error.atFailpoint) throw error;
          fired.push(...error.fired);
          report.push(`cycle ${cycle}: ${failpoints} fired during start-up`);
          continue;
        }
      }
      const current = server;
      if (failpoints) {
        const outcome = await Promise.race([current.exited, sleep(FAILPOINT_WAIT_MS).then(() => 'timeout' as const)]);
        if (outcome === 'timeout') report.push(`cycle ${cycle}: ${failpoints} did not fire in ${FAILPOINT_WAIT_MS} ms; killed`);
      } else {
        await sleep(300 + Math.floor(Math.random() * 1200));
      }
      const exit = await killServe(current);
      fired.push(...current.firedFailpoints());
      report.push(`cycle ${cycle}: ${failpoints ?? 'SIGKILL from outside'} -> exit ${exit?.code ?? exit?.signal}, fired ${current.firedFailpoints().join('; ') || 'none'}`);
      server = undefined;
    }
    // The last run has no failpoint: the clients finish what they were retrying, then stop.
    server = await startServe({ databaseUrl: db.url, port });
    await sleep(1_000);
    stop = true;
    const stats = await load;
    const acks = stats.flatMap((s) => s.acks);

    // Every acknowledged message re-sent once more to the healthy server: 200, its original seq.
    const tokenOf = new Map(world.senders.map((s) => [`${s.conversationId}|${s.userId}`, s.token]));
    const senderOf = (clientMsgId: string) => clientMsgId.slice(0, clientMsgId.lastIndexOf('-'));
    for (const ack of acks) {
      const again = await sendUntilAcked(target, tokenOf.get(`${ack.conversationId}|${senderOf(ack.clientMsgId)}`)!, ack.conversationId, ack.clientMsgId, textOf(ack.clientMsgId), []);
      expect({ id: ack.clientMsgId, status: again.status, seq: again.seq, messageId: again.messageId }).toEqual({ id: ack.clientMsgId, status: 200, seq: ack.seq, messageId: ack.messageId });
    }

    const summary = await auditLog(db.pool, acks);
    const afterLostReply = acks.filter((a) => a.status === 200 && a.attempts > 1).length;
    console.info(
      [
        `serve crash test: ${CYCLES.length} crash cycles, ${summary.acknowledged} acknowledged messages (${summary.storedMessages} stored) in ${summary.conversations} conversations,`,
        `${stats.reduce((n, s) => n + s.resends, 0)} deliberate re-sends, ${afterLostReply} sends acknowledged by a retry after a lost reply,`,
        `${log.filter((a) => a.status === 0).length} attempts failed without an answer, ${log.filter((a) => a.status >= 500).length} with 5xx;`,
        `lost ${summary.lost.length}, duplicated ${summary.duplicated.length}, seq gaps ${summary.gaps.length}`,
        ...report,
      ].join('\n  '),
    );
    expect(stats.flatMap((s) => s.seqMismatches), 're-sends answered with another seq').toEqual([]);
    expectNothingLost(summary);
    // The acknowledged sends are every stored send: a client retried each until it was acknowledged.
    expect(summary.storedMessages).toBe(summary.acknowledged);
    // Both failpoints fired at least once, by exit and by kill (else the test proved less than it says).
    for (const expected of ['after-commit-before-reply exit', 'after-commit-before-reply kill', 'projection-mid-batch exit', 'projection-mid-batch kill']) {
      expect(fired.some((f) => f.startsWith(expected)), `${expected} fired`).toBe(true);
    }

    await waitForProjections(db.pool);
    await expectProjectionsEqualRebuild(db.pool);
    await expectHistoryHasAcks(server.base!, (c) => world.readerOf.get(c)!, acks);
  }, 240_000);
});
