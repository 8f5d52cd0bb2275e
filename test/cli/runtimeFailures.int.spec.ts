// Runtime failures end the CLI with exit 1 and one clear line: an unreachable database, and a database
// that lacks migrations (which the CLI reports rather than applies, and so changes nothing).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { runMissive } from './cliProcess.js';

let unmigrated: TestDatabase;
beforeAll(async () => {
  unmigrated = await createTestDatabase({ migrate: false });
});
afterAll(async () => {
  await unmigrated.drop();
});

describe('missive runtime failures', () => {
  it('an unreachable database exits 1 with store_unavailable', async () => {
    const run = await runMissive(['replay'], 'postgres://missive:missive@127.0.0.1:9/missive');
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error \(store_unavailable\): PostgreSQL is unreachable: .*ECONNREFUSED/);
  });

  it('a database without the migrations exits 1 with migrations_pending and stays unmigrated', async () => {
    const run = await runMissive(['projections', 'status'], unmigrated.url);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error \(migrations_pending\): The database lacks migration\(s\) 001_event_store, 002_projections/);
    const tables = await unmigrated.pool.query("SELECT 1 FROM pg_tables WHERE schemaname = 'public'");
    expect(tables.rowCount).toBe(0);
  });
});
