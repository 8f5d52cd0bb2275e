// The projection_checkpoints table (migration 002): where each projection is in the global order,
// which code version built it and its epoch. Advancing is a compare-and-set that the runner issues
// first in each batch transaction, so the row lock also serialises two workers on one projection.
import type { Queryable } from './shared/sql.js';

export interface Checkpoint {
  name: string;
  version: number;
  epoch: number;
  position: bigint;
  updatedAt: Date;
  heartbeatAt: Date | null;
}

interface CheckpointRecord {
  name: string;
  version: number;
  epoch: number;
  position: string;
  updated_at: Date;
  heartbeat_at: Date | null;
}

const toCheckpoint = (r: CheckpointRecord): Checkpoint => ({
  name: r.name,
  version: r.version,
  epoch: r.epoch,
  position: BigInt(r.position),
  updatedAt: r.updated_at,
  heartbeatAt: r.heartbeat_at,
});

const SELECT = 'SELECT name, version, epoch, position, updated_at, heartbeat_at FROM projection_checkpoints';

export async function readCheckpoint(db: Queryable, name: string, forUpdate = false): Promise<Checkpoint | null> {
  const found = await db.query<CheckpointRecord>(`${SELECT} WHERE name = $1${forUpdate ? ' FOR UPDATE' : ''}`, [name]);
  return found.rows[0] ? toCheckpoint(found.rows[0]) : null;
}

export async function readCheckpoints(db: Queryable, names: readonly string[]): Promise<Map<string, Checkpoint>> {
  const found = await db.query<CheckpointRecord>(`${SELECT} WHERE name = ANY($1::text[])`, [[...names]]);
  return new Map(found.rows.map((r) => [r.name, toCheckpoint(r)]));
}

/** Moves the checkpoint from `from` to `to`; false when someone else moved it (or rebuilt it) first. */
export async function advanceCheckpoint(db: Queryable, from: Checkpoint, to: bigint): Promise<boolean> {
  const updated = await db.query(
    `UPDATE projection_checkpoints SET position = $2, updated_at = now(), heartbeat_at = now()
      WHERE name = $1 AND position = $3 AND epoch = $4 AND version = $5`,
    [from.name, to.toString(), from.position.toString(), from.epoch, from.version],
  );
  return updated.rowCount === 1;
}

/**
 * advanceCheckpoint as SQL text with its values inlined, to run in one simple query with BEGIN
 * (applyBatch.ts). Numbers come from bigints and integers; the name is escaped by the client.
 */
export function advanceCheckpointSql(client: { escapeLiteral(text: string): string }, from: Checkpoint, to: bigint): string {
  const int = (n: number | bigint): string => {
    const text = BigInt(n).toString();
    if (!/^-?[0-9]+$/.test(text)) throw new Error(`not an integer: ${text}`);
    return text;
  };
  return `UPDATE projection_checkpoints SET position = ${int(to)}, updated_at = now(), heartbeat_at = now()
      WHERE name = ${client.escapeLiteral(from.name)} AND position = ${int(from.position)} AND epoch = ${int(from.epoch)} AND version = ${int(from.version)}`;
}

/** Records that a projector is alive (for `status` from another process). */
export async function touchHeartbeat(db: Queryable, name: string): Promise<void> {
  await db.query('UPDATE projection_checkpoints SET heartbeat_at = now() WHERE name = $1', [name]);
}

/** Registers a projection at position 0, or restarts it at 0 with a new epoch (its schema was lost). */
export async function resetCheckpoint(db: Queryable, name: string, version: number): Promise<void> {
  await db.query(
    `INSERT INTO projection_checkpoints (name, version, epoch, position) VALUES ($1, $2, 1, 0)
     ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version, epoch = projection_checkpoints.epoch + 1,
       position = 0, updated_at = now()`,
    [name, version],
  );
}

/** After a rebuild swap: the shadow's position, the code's version, a new epoch. */
export async function swapCheckpoint(db: Queryable, name: string, version: number, position: bigint): Promise<number> {
  const updated = await db.query<{ epoch: number }>(
    `UPDATE projection_checkpoints SET version = $2, position = $3, epoch = epoch + 1, updated_at = now(), status = 'live'
      WHERE name = $1 RETURNING epoch`,
    [name, version, position.toString()],
  );
  return updated.rows[0]!.epoch;
}
