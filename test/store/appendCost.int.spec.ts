// An append's work must not grow with the length of its stream or the size of the log: a
// conversation with years of history takes a send as cheaply as a new one. Measured in rows read,
// not time: PostgreSQL counts the tuples each statement of the current transaction fetched through
// an index or read by a sequential scan (pg_stat_xact_user_tables), so the test is exact and
// independent of the machine. (Before migration 006, missive_append_batch answered by joining on
// (event_id, stream_id), and its generic plan scanned the whole table: the batch test fails there.
// missive_append's plan happened to probe by id already; its test guards that it stays so.)
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPEND_BATCH_SQL } from '../../src/store/postgres/append.js';
import { APPEND_SQL } from '../../src/store/postgres/sql.js';
import { createPostgresEventStore } from '../../src/store/postgres/postgresEventStore.js';
import type { EventStore } from '../../src/store/eventStore.js';
import { newEvents } from '../contract/contractFixtures.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const HISTORY = 3_000;
/** Index probes and heap fetches one append of one event may make, whatever the stream's length. */
const MAX_ROWS_READ = 10;

interface ReadCounts {
  seqScans: number;
  seqRowsRead: number;
  indexRowsFetched: number;
}

describe('the cost of an append does not grow with its stream', () => {
  let db: TestDatabase;
  let store: EventStore;
  const longStream = `conversation-long-${randomUUID()}`;

  beforeAll(async () => {
    db = await createTestDatabase();
    store = createPostgresEventStore({ pool: db.pool, notify: false });
    for (let written = 0; written < HISTORY; written += 500) await store.append(longStream, newEvents(500), 'any');
    // Other streams too, so a scan of the whole table shows as well.
    for (let i = 0; i < 20; i++) await store.append(`conversation-other-${randomUUID()}`, newEvents(100), 'any');
    await db.pool.query('ANALYZE events');
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  /** Runs `sql` in a transaction that is rolled back, and returns what it read from `events`. */
  async function rowsReadBy(sql: string, params: unknown[]): Promise<ReadCounts> {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      const before = await countsOf(client);
      await client.query(sql, params);
      const after = await countsOf(client);
      return {
        seqScans: after.seqScans - before.seqScans,
        seqRowsRead: after.seqRowsRead - before.seqRowsRead,
        indexRowsFetched: after.indexRowsFetched - before.indexRowsFetched,
      };
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  }

  async function countsOf(client: import('pg').PoolClient): Promise<ReadCounts> {
    const { rows } = await client.query<{ seq_scan: string; seq_tup_read: string; idx_tup_fetch: string }>(
      "SELECT seq_scan::text, seq_tup_read::text, coalesce(idx_tup_fetch, 0)::text AS idx_tup_fetch FROM pg_stat_xact_user_tables WHERE relname = 'events'",
    );
    const row = rows[0]!;
    return { seqScans: Number(row.seq_scan), seqRowsRead: Number(row.seq_tup_read), indexRowsFetched: Number(row.idx_tup_fetch) };
  }

  const eventJson = () => newEvents(1).map((e) => ({ eventId: e.eventId, type: e.type, data: e.data, metadata: e.metadata }));

  it(`missive_append reads a handful of rows to append to a stream of ${HISTORY} events`, async () => {
    // Several times: PL/pgSQL switches to a generic plan after the fifth execution in a session.
    for (let i = 0; i < 7; i++) {
      const read = await rowsReadBy(APPEND_SQL, [longStream, JSON.stringify(eventJson()), 'any', null, false]);
      expect(read, `append ${i + 1}`).toEqual({ seqScans: 0, seqRowsRead: 0, indexRowsFetched: expect.any(Number) });
      expect(read.indexRowsFetched, `append ${i + 1}: rows fetched through an index`).toBeLessThanOrEqual(MAX_ROWS_READ);
    }
  });

  it(`missive_append_batch reads a handful of rows per request, one of them to a stream of ${HISTORY} events`, async () => {
    for (let i = 0; i < 7; i++) {
      const requests = [
        { s: longStream, e: eventJson(), x: 'any', r: null },
        { s: `conversation-new-${randomUUID()}`, e: eventJson(), x: 'no_stream', r: null },
      ];
      const read = await rowsReadBy(APPEND_BATCH_SQL, [JSON.stringify(requests), false]);
      expect(read, `batch ${i + 1}`).toEqual({ seqScans: 0, seqRowsRead: 0, indexRowsFetched: expect.any(Number) });
      expect(read.indexRowsFetched, `batch ${i + 1}: rows fetched through an index`).toBeLessThanOrEqual(2 * MAX_ROWS_READ);
    }
  });

  it('still answers a retried id with the stored event (the lookup by id keeps the stream check)', async () => {
    const [event] = newEvents(1);
    const first = await store.append(longStream, [event!], 'any');
    const again = await store.append(longStream, [event!], 'any');
    expect(again.events[0]!.duplicate).toBe(true);
    expect(again.events[0]!.record.globalPosition).toBe(first.events[0]!.record.globalPosition);
  });
});
