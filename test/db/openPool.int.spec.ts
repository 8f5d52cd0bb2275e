// The service's pools (openPool) survive a connection that the server drops while it is checked out
// between two queries, as happens to every open transaction when PostgreSQL restarts. node-postgres then
// emits 'error' on the client, and the pool listens only to idle clients: without a listener of our own
// that event ended `missive serve` (found by test/faults/postgresOutage.faults.spec.ts).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openPool } from '../../src/db/connect.js';

// The run's maintenance database, not a database of its own: creating and dropping one (DROP DATABASE
// holds a transaction id through a checkpoint) would hold back, cluster-wide, the event-store reads of the
// test file running beside this one.
describe('openPool', () => {
  const url = inject('pgAdminUrl');
  let admin: pg.Pool;
  beforeAll(() => {
    admin = new pg.Pool({ connectionString: url, max: 1 });
  });
  afterAll(async () => admin?.end());

  it('keeps the process alive when a checked-out connection is terminated, and serves a fresh one after', async () => {
    const pool = openPool(url, 2);
    try {
      const client = await pool.connect();
      await client.query('BEGIN');
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // No 'error' listener of the test's own: that is what openPool must provide. 'end' follows 'error'.
      let ended = false;
      client.once('end', () => (ended = true));
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      for (const deadline = Date.now() + 5_000; !ended && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
      expect(ended, 'the drop reached the client while it was idle in our hands').toBe(true);
      // The caller learns at its next query; release() then drops the dead client.
      await expect(client.query('SELECT 1')).rejects.toThrow();
      client.release();
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });
});
