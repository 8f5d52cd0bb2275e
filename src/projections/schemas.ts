// Creating the live schemas: idempotent, safe from several processes at once (advisory lock), and
// self-healing — a schema found missing is recreated empty with its checkpoint reset to 0 and a new
// epoch, so the projector rebuilds it in place and sync cursors of the old build are refused.
import type pg from 'pg';
import { ALL_PROJECTIONS } from './catalog.js';
import { readCheckpoint, resetCheckpoint } from './checkpoints.js';
import type { ProjectionDefinition } from './definition.js';
import { PROJECTION_LOCK_NAMESPACE, SCHEMA_LOCK_KEY } from './locks.js';
import { schemaIdent, type Queryable } from './shared/sql.js';

export async function schemaExists(db: Queryable, schema: string): Promise<boolean> {
  const found = await db.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  return (found.rowCount ?? 0) > 0;
}

/** Drops `schema` if present and creates it with the projection's tables, in the caller's transaction. */
export async function recreateSchema(client: pg.ClientBase, def: ProjectionDefinition, schema: string): Promise<void> {
  await client.query(`DROP SCHEMA IF EXISTS ${schemaIdent(schema)} CASCADE`);
  await client.query(`CREATE SCHEMA ${schemaIdent(schema)}`);
  await def.createTables(client, schema);
}

export async function ensureProjectionSchemas(pool: pg.Pool, projections: readonly ProjectionDefinition[] = ALL_PROJECTIONS): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [PROJECTION_LOCK_NAMESPACE, SCHEMA_LOCK_KEY]);
    for (const def of projections) {
      const exists = await schemaExists(client, def.schema);
      const checkpoint = await readCheckpoint(client, def.name);
      if (exists && checkpoint) continue;
      // Tables without a checkpoint (or a checkpoint without tables) cannot be trusted: start over.
      await recreateSchema(client, def, def.schema);
      await resetCheckpoint(client, def.name, def.version);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
