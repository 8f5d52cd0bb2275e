// The relay_checkpoints table (migration 003): the last global position a relay's bus acknowledged.
import type pg from 'pg';

type Queryable = Pick<pg.Pool, 'query'>;

/** The stored position, registering the relay at 0 on first use. */
export async function readRelayCheckpoint(db: Queryable, name: string): Promise<bigint> {
  await db.query('INSERT INTO relay_checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [name]);
  const found = await db.query<{ position: string }>('SELECT position FROM relay_checkpoints WHERE name = $1', [name]);
  return BigInt(found.rows[0]!.position);
}

/** Compare-and-set from `from` to `to`; false when another relay moved it meanwhile. */
export async function advanceRelayCheckpoint(db: Queryable, name: string, from: bigint, to: bigint): Promise<boolean> {
  const updated = await db.query('UPDATE relay_checkpoints SET position = $3, updated_at = now() WHERE name = $1 AND position = $2', [name, from.toString(), to.toString()]);
  return updated.rowCount === 1;
}
