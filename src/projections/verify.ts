// Verify: rebuilds a projection into a scratch schema up to the live checkpoint and compares every
// table with the live one. The comparison runs while holding the checkpoint row, so the live
// projector waits (readers do not) and both sides stand at exactly the same position.
import { inTransaction } from './applyBatch.js';
import { ALL_PROJECTIONS, findProjection } from './catalog.js';
import { readCheckpoint } from './checkpoints.js';
import type { ProjectionDeps } from './deps.js';
import { ProjectionStateError } from './errors.js';
import { withRebuildLock } from './locks.js';
import { buildIntoSchema, replayWithin } from './rebuild.js';
import { ensureProjectionSchemas } from './schemas.js';
import { schemaIdent, tableIn, type Queryable } from './shared/sql.js';

export interface ProjectionDifference {
  table: string;
  /**
   * missing_in_live: a row the log gives that live lacks; unexpected_in_live: a live row the log does
   * not give; table_missing_in_live / table_unexpected_in_live: a whole table differs.
   */
  kind: 'missing_in_live' | 'unexpected_in_live' | 'table_missing_in_live' | 'table_unexpected_in_live';
  row?: Record<string, unknown>;
}

export interface VerifyOptions {
  /** Differences reported per table and direction at most (default 20). */
  maxDifferences?: number;
}

async function tablesOf(db: Queryable, schema: string): Promise<string[]> {
  const found = await db.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname`,
    [schema],
  );
  return found.rows.map((r) => r.relname);
}

/** Rows of `table` in `from` that are not in `other` (as multisets), at most `max`. */
async function rowsOnlyIn(db: Queryable, from: string, other: string, table: string, max: number): Promise<Record<string, unknown>[]> {
  const found = await db.query<{ row: Record<string, unknown> }>(
    `SELECT to_jsonb(d) AS row FROM (SELECT * FROM ${tableIn(from, table)} EXCEPT ALL SELECT * FROM ${tableIn(other, table)}) d LIMIT $1`,
    [max],
  );
  return found.rows.map((r) => r.row);
}

export async function diffSchemas(db: Queryable, live: string, expected: string, max: number): Promise<ProjectionDifference[]> {
  const liveTables = await tablesOf(db, live);
  const expectedTables = await tablesOf(db, expected);
  const differences: ProjectionDifference[] = [];
  for (const table of expectedTables) {
    if (!liveTables.includes(table)) {
      differences.push({ table, kind: 'table_missing_in_live' });
      continue;
    }
    for (const row of await rowsOnlyIn(db, expected, live, table, max)) differences.push({ table, kind: 'missing_in_live', row });
    for (const row of await rowsOnlyIn(db, live, expected, table, max)) differences.push({ table, kind: 'unexpected_in_live', row });
  }
  for (const table of liveTables) if (!expectedTables.includes(table)) differences.push({ table, kind: 'table_unexpected_in_live' });
  return differences;
}

/** Differences between the live read model and one rebuilt from the log at the same position (empty: equal). */
export async function verifyProjection(deps: ProjectionDeps, name: string, options: VerifyOptions = {}): Promise<ProjectionDifference[]> {
  const def = findProjection(name, deps.projections ?? ALL_PROJECTIONS);
  const max = options.maxDifferences ?? 20;
  await ensureProjectionSchemas(deps.pool, [def]);
  return withRebuildLock(deps.pool, def.name, async () => {
    const scratch = `${def.schema}__verify`;
    try {
      const start = await readCheckpoint(deps.pool, def.name);
      if (start?.version !== def.version) {
        throw new ProjectionStateError(`Projection ${def.name} was built by version ${start?.version}; rebuild it before verifying`);
      }
      const built = await buildIntoSchema(deps, def, scratch, { until: start.position });
      const differences = await inTransaction(deps.pool, async (client) => {
        const checkpoint = (await readCheckpoint(client, def.name, true))!;
        await replayWithin(client, deps, def, scratch, built.position, checkpoint.position);
        return diffSchemas(client, def.schema, scratch, max);
      });
      return differences ?? [];
    } finally {
      await deps.pool.query(`DROP SCHEMA IF EXISTS ${schemaIdent(scratch)} CASCADE`);
    }
  });
}
