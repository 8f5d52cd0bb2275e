import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

describe('embedded PostgreSQL (test support)', () => {
  let db: TestDatabase;
  beforeAll(async () => { db = await createTestDatabase(); });
  afterAll(async () => { await db.drop(); });
  it('serves a migrated database', async () => {
    const { rows } = await db.pool.query<{ name: string }>('SELECT name FROM pgmigrations ORDER BY id');
    expect(rows.map((r) => r.name)).toContain('001_event_store');
  });
});
