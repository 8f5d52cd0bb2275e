// What an operator command works with: the configuration, the PostgreSQL pool (read models, and the log
// unless EVENTSTORE_URL moves it) and the event store port. Opened after the input was validated, and
// always closed, so a command never leaves an embedded server running behind it.
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import type { Config } from '../config/config.js';
import { openDatabase, type OpenDatabase } from '../db/connect.js';
import { migrate, MIGRATIONS_DIR } from '../db/migrate.js';
import { StoreUnavailableError, type EventStore } from '../store/eventStore.js';
import { isUnavailable } from '../store/postgres/storeErrors.js';
import { createPostgresEventStore } from '../store/postgres/postgresEventStore.js';

export interface CliContext {
  config: Config;
  pool: pg.Pool;
  databaseUrl: string;
  store: EventStore;
}

/** The schema is behind this version of Missive: the operator runs `missive migrate` first. */
export class PendingMigrationsError extends Error {
  readonly code = 'migrations_pending';
}

/** Opens the database for `work` and always closes it; an unreachable database is a StoreUnavailableError. */
export async function withDatabase<T>(config: Config, work: (database: OpenDatabase) => Promise<T>): Promise<T> {
  const database = await openDatabase(config).catch(unavailableAsStoreError);
  try {
    return await work(database);
  } catch (error) {
    return unavailableAsStoreError(error);
  } finally {
    await database.close().catch(() => {});
  }
}

/**
 * Opens the database and the store, runs `work`, closes everything. The embedded database is brought
 * up to date here (it belongs to this installation); an external one is only checked, because an
 * audit command must not migrate a shared database behind its operator's back.
 */
export function withCliContext<T>(config: Config, work: (context: CliContext) => Promise<T>): Promise<T> {
  return withDatabase(config, async (database) => {
    if (database.source === 'external') await checkNoPendingMigrations(database.pool);
    else await migrate(database.url);
    const store = await openEventStore(config, database);
    try {
      return await work({ config, pool: database.pool, databaseUrl: database.url, store });
    } finally {
      await store.close().catch(() => {});
    }
  });
}

// The EventStoreDB client is loaded only when configured: it is the heaviest import of the CLI.
async function openEventStore(config: Config, database: OpenDatabase): Promise<EventStore> {
  if (!config.eventStoreUrl) return createPostgresEventStore({ pool: database.pool, notify: false });
  const { createEventStoreDbEventStore } = await import('../store/eventstoredb/esdbEventStore.js');
  return createEventStoreDbEventStore({ connectionString: config.eventStoreUrl });
}

/** An unreachable database becomes one clear StoreUnavailableError (exit 1); anything else passes. */
function unavailableAsStoreError(error: unknown): never {
  if (isUnavailable(error)) throw new StoreUnavailableError(`PostgreSQL is unreachable: ${(error as Error).message}`, { cause: error });
  throw error;
}

// node-pg-migrate records a migration by its file name without the extension.
const MIGRATION_FILE = /^(.+)\.(sql|js|cjs|mjs|ts)$/;

async function checkNoPendingMigrations(pool: pg.Pool): Promise<void> {
  const expected = fs
    .readdirSync(MIGRATIONS_DIR)
    .map((file) => MIGRATION_FILE.exec(path.basename(file))?.[1])
    .filter((name): name is string => name !== undefined);
  const applied = await appliedMigrations(pool);
  const pending = expected.filter((name) => !applied.has(name));
  if (pending.length > 0) throw new PendingMigrationsError(`The database lacks migration(s) ${pending.join(', ')}: run \`missive migrate\` first`);
}

async function appliedMigrations(pool: pg.Pool): Promise<Set<string>> {
  const { rows } = await pool.query<{ exists: boolean }>("SELECT to_regclass('pgmigrations') IS NOT NULL AS exists");
  if (!rows[0]?.exists) return new Set();
  const applied = await pool.query<{ name: string }>('SELECT name FROM pgmigrations');
  return new Set(applied.rows.map((r) => r.name));
}
