// Advisory locks of the projection layer (two-int keys under one namespace, apart from the event
// store's): one for creating schemas, one per projection held for the length of a rebuild or verify.
import type pg from 'pg';
import { RebuildInProgressError } from './errors.js';
import type { Queryable } from './shared/sql.js';

/** 'proj' in ASCII: the namespace of every projection advisory lock. */
export const PROJECTION_LOCK_NAMESPACE = 0x70726f6a;
export const SCHEMA_LOCK_KEY = 0;

/** A stable positive 31-bit key per projection name (never 0, which is the schema lock). */
export function rebuildLockKey(name: string): number {
  let hash = 2166136261;
  for (const ch of name) hash = Math.imul(hash ^ ch.charCodeAt(0), 16777619);
  return ((hash >>> 1) % 0x7ffffffe) + 1;
}

/** Runs `work` holding the projection's rebuild lock on a dedicated session; fails at once if taken. */
export async function withRebuildLock<T>(pool: pg.Pool, name: string, work: () => Promise<T>): Promise<T> {
  const session = await pool.connect();
  try {
    const locked = await session.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [PROJECTION_LOCK_NAMESPACE, rebuildLockKey(name)]);
    if (!locked.rows[0]?.ok) throw new RebuildInProgressError(name);
    try {
      return await work();
    } finally {
      await session.query('SELECT pg_advisory_unlock($1, $2)', [PROJECTION_LOCK_NAMESPACE, rebuildLockKey(name)]);
    }
  } finally {
    session.release();
  }
}

/**
 * Which of these projections some session is rebuilding or verifying right now. Advisory locks belong
 * to one database but pg_locks lists the whole cluster's: filter on ours, or another Missive database
 * on the same server (a test run's neighbours, a staging copy) would look like a rebuild here.
 */
export async function projectionsBeingRebuilt(db: Queryable, names: readonly string[]): Promise<Set<string>> {
  const found = await db.query<{ key: string }>(
    `SELECT objid::bigint AS key FROM pg_locks
      WHERE locktype = 'advisory' AND classid::bigint = $1 AND objsubid = 2 AND granted
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [PROJECTION_LOCK_NAMESPACE],
  );
  const keys = new Set(found.rows.map((r) => Number(r.key)));
  return new Set(names.filter((n) => keys.has(rebuildLockKey(n))));
}
