import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { APPEND_SQL, NO_APPENDS_APPLICATION_NAME } from '../../src/store/postgres/sql.js';
import { EventIdConflictError, StoreUnavailableError, WrongExpectedRevisionError, type EventStore } from '../../src/store/eventStore.js';
import { createPostgresEventStore } from '../../src/store/postgres/postgresEventStore.js';
import { InvalidStoreRequestError } from '../../src/store/memory/requestChecks.js';
import { freePort } from '../support/globalSetup.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { describeEventStoreContract } from '../contract/eventStoreContract.js';
import { newEvent, newEvents, recordingSubscriber, uniquePrefix, waitFor } from '../contract/contractFixtures.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

describeEventStoreContract('postgres', async () => {
  const store = createPostgresEventStore({ pool: db.pool, connectionString: db.url, pollIntervalMs: 100 });
  return {
    store,
    dispose: () => store.close(),
    holdOpenAppend: async (streamId, events) => store.beginAppend(streamId, events, 'any'),
  };
});

/** Waits until the database has a session LISTENing on the events channel. */
async function waitForListeners(count: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const { rows } = await db.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN missive_events' AND state = 'idle'",
    );
    if (rows[0]!.n >= count) return;
    if (Date.now() > deadline) throw new Error(`expected ${count} LISTEN session(s)`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('PostgreSQL event store specifics', () => {
  it('wakes a subscriber of another store instance (own pool) through NOTIFY', async () => {
    const otherPool = new pg.Pool({ connectionString: db.url, max: 2 });
    // Polling every minute: only a notification can deliver within the test's time.
    const follower = createPostgresEventStore({ pool: otherPool, pollIntervalMs: 60_000 });
    const writer = createPostgresEventStore({ pool: db.pool });
    const prefix = uniquePrefix();
    const subscriber = recordingSubscriber(follower, await follower.headPosition(), prefix);
    try {
      await waitForListeners(1);
      const appendedAt = Date.now();
      await writer.append(`${prefix}-notified`, [newEvent()], 'any');
      await waitFor(() => subscriber.own().length === 1, 'the notified event delivered', 5_000);
      expect(Date.now() - appendedAt).toBeLessThan(2_000);
    } finally {
      await subscriber.subscription.stop();
      await follower.close();
      await writer.close();
      await otherPool.end();
    }
  });

  it('LISTENs again after its connection is killed', async () => {
    const follower = createPostgresEventStore({ pool: db.pool, pollIntervalMs: 60_000 });
    const writer = createPostgresEventStore({ pool: db.pool, notify: true });
    const prefix = uniquePrefix();
    const subscriber = recordingSubscriber(follower, await follower.headPosition(), prefix);
    try {
      await waitForListeners(1);
      await db.pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN missive_events'");
      await new Promise((resolve) => setTimeout(resolve, 50));
      await waitForListeners(1);
      await writer.append(`${prefix}-after-reconnect`, [newEvent()], 'any');
      await waitFor(() => subscriber.own().length === 1, 'the event delivered after the reconnect', 5_000);
    } finally {
      await subscriber.subscription.stop();
      await follower.close();
      await writer.close();
    }
  });

  it('delivers an event held back by an open transaction soon after that transaction ends, with no notification', async () => {
    const follower = createPostgresEventStore({ pool: db.pool, pollIntervalMs: 60_000 });
    const writer = createPostgresEventStore({ pool: db.pool });
    const prefix = uniquePrefix();
    const subscriber = recordingSubscriber(follower, await follower.headPosition(), prefix);
    // A transaction that took an id and writes nothing to the log (a projector's, another database's):
    // its commit sends no NOTIFY, so only a prompt re-read can deliver what it held back.
    const blocker = await db.pool.connect();
    try {
      await waitForListeners(1);
      await blocker.query('BEGIN');
      await blocker.query('SELECT pg_current_xact_id()');
      await writer.append(`${prefix}-held-back`, [newEvent()], 'any');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(subscriber.own()).toHaveLength(0);
      const committedAt = Date.now();
      await blocker.query('COMMIT');
      await waitFor(() => subscriber.own().length === 1, 'the held-back event delivered', 5_000);
      expect(Date.now() - committedAt).toBeLessThan(2_000);
    } finally {
      blocker.release();
      await subscriber.subscription.stop();
      await follower.close();
      await writer.close();
    }
  });

  // The fence waits only for transactions that could still append here (migrations/004).
  describe('the read fence', () => {
    async function withOpenTransaction<T>(client: pg.ClientBase, begin: string, body: () => Promise<T>): Promise<T> {
      await client.query(begin);
      await client.query('SELECT pg_current_xact_id()');
      try {
        return await body();
      } finally {
        await client.query('ROLLBACK');
      }
    }

    async function readsRightAway(store: ReturnType<typeof createPostgresEventStore>, prefix: string): Promise<boolean> {
      const before = await store.headPosition();
      await store.append(`${prefix}-fence`, [newEvent()], 'any');
      const page = await store.readAll({ after: before });
      return page.events.some((e) => e.streamId === `${prefix}-fence`);
    }

    it('holds back committed events while a transaction of this database is open', async () => {
      const store = createPostgresEventStore({ pool: db.pool, notify: false });
      const blocker = await db.pool.connect();
      try {
        const seen = await withOpenTransaction(blocker, 'BEGIN', () => readsRightAway(store, uniquePrefix()));
        expect(seen).toBe(false);
      } finally {
        blocker.release();
        await store.close();
      }
    });

    it('does not wait for a transaction open in another database of the same server', async () => {
      const other = await createTestDatabase({ migrate: false });
      const store = createPostgresEventStore({ pool: db.pool, notify: false });
      const blocker = await other.pool.connect();
      try {
        const seen = await withOpenTransaction(blocker, 'BEGIN', () => readsRightAway(store, uniquePrefix()));
        expect(seen).toBe(true);
      } finally {
        blocker.release();
        await store.close();
        await other.drop();
      }
    });

    it('does not wait for a transaction marked as never appending, and refuses an append inside one', async () => {
      const store = createPostgresEventStore({ pool: db.pool, notify: false });
      const blocker = await db.pool.connect();
      const marked = `BEGIN; SET LOCAL application_name TO '${NO_APPENDS_APPLICATION_NAME}'`;
      try {
        const seen = await withOpenTransaction(blocker, marked, () => readsRightAway(store, uniquePrefix()));
        expect(seen).toBe(true);
        await blocker.query(marked);
        const refused = await blocker
          .query(APPEND_SQL, [`${uniquePrefix()}-marked`, JSON.stringify([{ eventId: randomUUID(), type: 'T', data: {}, metadata: {} }]), 'any', null, false])
          .then(() => null, (error: { code?: string }) => error.code);
        await blocker.query('ROLLBACK');
        expect(refused).toBe('MS003');
      } finally {
        blocker.release();
        await store.close();
      }
    });
  });

  async function appendConcurrently(store: EventStore, prefix: string): Promise<void> {
    await Promise.all(Array.from({ length: 10 }, (_, w) => (async () => {
      for (let i = 0; i < 10; i++) await store.append(`${prefix}-${w}`, newEvents(1 + (i % 3)), 'any');
    })()));
  }

  /** Over the events of `prefix`: position-order inversions of transaction ids, transactions shared by streams, transactions whose positions are not contiguous. */
  async function transactionOrder(prefix: string): Promise<{ inversions: number; shared: number; split: number }> {
    const { rows } = await db.pool.query<{ inversions: number; shared: number; split: number }>(`
      SELECT count(*) FILTER (WHERE transaction_id < previous)::int AS inversions,
             count(*) FILTER (WHERE transaction_id = previous AND stream_id <> previous_stream)::int AS shared,
             (count(DISTINCT transaction_id) - 1 - count(*) FILTER (WHERE transaction_id <> previous))::int AS split
        FROM (SELECT transaction_id, stream_id,
                     lag(transaction_id) OVER (ORDER BY global_position) AS previous,
                     lag(stream_id) OVER (ORDER BY global_position) AS previous_stream
                FROM events WHERE stream_id LIKE $1) ordered`, [`${prefix}-%`]);
    return rows[0]!;
  }

  it('keeps transaction id order equal to global position order under concurrent appends', async () => {
    const store = createPostgresEventStore({ pool: db.pool, notify: false, appendBatching: false });
    const prefix = uniquePrefix();
    await appendConcurrently(store, prefix);
    expect(await transactionOrder(prefix)).toEqual({ inversions: 0, shared: 0, split: 0 });
    await store.close();
  });

  it('group commit: a refused request in a batch (revision, foreign event id) fails alone; duplicates answer like missive_append', async () => {
    const store = createPostgresEventStore({ pool: db.pool, notify: false, appendBatching: { maxInFlight: 1, maxBatch: 16 } });
    const prefix = uniquePrefix();
    const taken = newEvent();
    await store.append(`${prefix}-owner`, [taken], 'no_stream');
    const stored = newEvents(2);
    await store.append(`${prefix}-dup`, stored, 'no_stream');
    // The first append occupies the only slot; the next five queue and go as one batch.
    const [, ok, stale, foreign, dup, fresh] = await Promise.allSettled([
      store.append(`${prefix}-first`, [newEvent()], 'no_stream'),
      store.append(`${prefix}-ok`, newEvents(3), 'no_stream'),
      store.append(`${prefix}-owner`, [newEvent()], 5),
      store.append(`${prefix}-foreign`, [newEvent(), taken], 'any'),
      store.append(`${prefix}-dup`, stored, 7),
      store.append(`${prefix}-fresh`, [newEvent()], 'any'),
    ]);
    expect(ok.status).toBe('fulfilled');
    if (ok.status === 'fulfilled') {
      expect(ok.value.nextExpectedRevision).toBe(2);
      expect(ok.value.events.map((e) => [e.duplicate, e.record.streamPosition])).toEqual([[false, 0], [false, 1], [false, 2]]);
    }
    expect(stale.status === 'rejected' && stale.reason).toBeInstanceOf(WrongExpectedRevisionError);
    expect(stale.status === 'rejected' && (stale.reason as WrongExpectedRevisionError).actual).toBe(0);
    expect(foreign.status === 'rejected' && foreign.reason).toBeInstanceOf(EventIdConflictError);
    expect(dup.status).toBe('fulfilled');
    if (dup.status === 'fulfilled') {
      expect(dup.value.nextExpectedRevision).toBe(1);
      expect(dup.value.events.every((e) => e.duplicate)).toBe(true);
      expect(dup.value.events.map((e) => e.record.eventId)).toEqual(stored.map((e) => e.eventId));
    }
    expect(fresh.status).toBe('fulfilled');
    expect(await store.readStream(`${prefix}-owner`)).toHaveLength(1);
    expect(await store.readStream(`${prefix}-foreign`)).toHaveLength(0);
    const batched = await db.pool.query<{ n: number }>(
      `SELECT count(DISTINCT transaction_id)::int AS n FROM events WHERE stream_id IN ($1, $2)`, [`${prefix}-ok`, `${prefix}-fresh`]);
    expect(batched.rows[0]!.n).toBe(1);
    await store.close();
  });

  it('group commit: concurrent appends to several streams share transactions, each with contiguous positions in id order', async () => {
    const store = createPostgresEventStore({ pool: db.pool, notify: false, appendBatching: { maxInFlight: 2, maxBatch: 8 } });
    const prefix = uniquePrefix();
    await appendConcurrently(store, prefix);
    const order = await transactionOrder(prefix);
    expect(order.inversions).toBe(0);
    expect(order.split).toBe(0);
    expect(order.shared).toBeGreaterThan(0);
    // Every stream is still gapless and in append order.
    for (let w = 0; w < 10; w++) {
      const events = await store.readStream(`${prefix}-${w}`);
      expect(events.map((e) => e.streamPosition)).toEqual(events.map((_, i) => i));
      expect(events).toHaveLength(19);
    }
    await store.close();
  });

  it('rejects a NUL character that PostgreSQL cannot store, appending nothing', async () => {
    const store = createPostgresEventStore({ pool: db.pool });
    const prefix = uniquePrefix();
    await expect(store.append(`${prefix}-nul`, [newEvent({ data: { text: 'a\u0000b' } })], 'any')).rejects.toBeInstanceOf(InvalidStoreRequestError);
    await expect(store.append(`${prefix}-nul\u0000`, [newEvent()], 'any')).rejects.toBeInstanceOf(InvalidStoreRequestError);
    expect(await store.readStream(`${prefix}-nul`)).toEqual([]);
    await store.close();
  });

  it('reports an unreachable database as StoreUnavailableError, also to subscribers', async () => {
    const deadPool = new pg.Pool({ host: '127.0.0.1', port: await freePort(), user: 'missive', password: 'missive', database: 'missive', connectionTimeoutMillis: 2_000 });
    const store = createPostgresEventStore({ pool: deadPool, notify: false, pollIntervalMs: 50 });
    try {
      await expect(store.append('conversation-x', [newEvent()], 'any')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.readStream('conversation-x')).rejects.toMatchObject({ code: 'store_unavailable' });
      await expect(store.readAll()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.headPosition()).rejects.toBeInstanceOf(StoreUnavailableError);
      const subscriber = recordingSubscriber(store, 0n, 'conversation-');
      await waitFor(() => subscriber.errors.length >= 2, 'the subscriber reports and retries');
      await subscriber.subscription.stop();
      expect(subscriber.errors.every((e) => e instanceof StoreUnavailableError)).toBe(true);
    } finally {
      await store.close();
      await deadPool.end();
    }
  });
});
