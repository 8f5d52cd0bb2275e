import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { APPEND_SQL, NO_APPENDS_APPLICATION_NAME } from '../../src/store/postgres/sql.js';
import { StoreUnavailableError } from '../../src/store/eventStore.js';
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

  it('keeps transaction id order equal to global position order under concurrent appends', async () => {
    const store = createPostgresEventStore({ pool: db.pool, notify: false });
    const prefix = uniquePrefix();
    await Promise.all(Array.from({ length: 10 }, (_, w) => (async () => {
      for (let i = 0; i < 10; i++) await store.append(`${prefix}-${w}`, newEvents(1 + (i % 3)), 'any');
    })()));
    const { rows } = await db.pool.query<{ inversions: number; shared: number }>(`
      SELECT count(*) FILTER (WHERE transaction_id < previous)::int AS inversions,
             count(*) FILTER (WHERE transaction_id = previous AND stream_id <> previous_stream)::int AS shared
        FROM (SELECT transaction_id, stream_id,
                     lag(transaction_id) OVER (ORDER BY global_position) AS previous,
                     lag(stream_id) OVER (ORDER BY global_position) AS previous_stream
                FROM events) ordered`);
    expect(rows[0]).toEqual({ inversions: 0, shared: 0 });
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
