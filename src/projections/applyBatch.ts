// Applying events to a projection: the live path (one transaction: compare-and-set on the checkpoint
// first, then the rows) and the offline path used to fill a shadow or scratch schema.
import type pg from 'pg';
import type { EventStore, RecordedEvent } from '../store/eventStore.js';
import { advanceCheckpointSql, type Checkpoint } from './checkpoints.js';
import type { ProjectionDefinition } from './definition.js';
import { NO_FAILPOINTS, type Failpoints } from '../failpoints/failpoints.js';
import { NO_APPENDS_APPLICATION_NAME } from '../store/postgres/sql.js';

// A projection transaction writes read models, never events: saying so lets readers of the global
// order (this projector's own followers included) read past it while it is open (migrations/004).
export const BEGIN_PROJECTION_TRANSACTION = `BEGIN; SET LOCAL synchronous_commit TO off; SET LOCAL application_name TO '${NO_APPENDS_APPLICATION_NAME}'`;

/**
 * Runs `work` in a transaction on a pooled client. Commits do not wait for the WAL flush: a read
 * model's rows and checkpoint are lost or kept together in a crash, and lost batches are simply
 * applied again from the log, so durability per commit would only cost time. The transaction is
 * marked as never appending events (see BEGIN_PROJECTION_TRANSACTION).
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T | null>): Promise<T | null> {
  const client = await pool.connect();
  try {
    await client.query(BEGIN_PROJECTION_TRANSACTION);
    const result = await work(client);
    await client.query(result === null ? 'ROLLBACK' : 'COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Applies a batch to the live schema and moves the checkpoint to `to`, atomically. The checkpoint
 * update comes first: its row lock makes a concurrent worker wait, then find the position changed.
 * Returns the new checkpoint, or null when another worker (or a rebuild) moved it first.
 */
export async function applyLiveBatch(
  pool: pg.Pool,
  def: ProjectionDefinition,
  checkpoint: Checkpoint,
  events: readonly RecordedEvent[],
  to: bigint,
  fanoutLimit: number,
  failpoints: Failpoints = NO_FAILPOINTS,
): Promise<Checkpoint | null> {
  const client = await pool.connect();
  try {
    // BEGIN (with its commit mode and no-appends mark, before the first write) and the checkpoint's
    // compare-and-set in one round trip: one simple query, the values inlined as literals, the name escaped.
    const results = (await client.query(`${BEGIN_PROJECTION_TRANSACTION}; ${advanceCheckpointSql(client, checkpoint, to)}`)) as unknown as pg.QueryResult[];
    if (results.at(-1)?.rowCount !== 1) {
      await client.query('ROLLBACK');
      return null;
    }
    await def.apply(client, events, { schema: def.schema, fanoutLimit });
    // Rows and checkpoint are written, not committed: a crash here must lose both together.
    failpoints.reach('projection-mid-batch');
    await client.query('COMMIT');
    return { ...checkpoint, position: to };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

export interface ReplayOptions {
  store: EventStore;
  def: ProjectionDefinition;
  schema: string;
  fanoutLimit: number;
  batchSize: number;
  /** Exclusive start. */
  from: bigint;
  /** Inclusive end; undefined: until the log is exhausted. */
  until?: bigint;
  onBatch?: (position: bigint, events: number) => void;
}

/**
 * Replays the log into `options.schema` from `from` up to `until`, batch by batch. With a client, all
 * batches go into the caller's transaction; with a pool, one transaction per batch. Returns the
 * position reached.
 */
export async function replayInto(db: { client: pg.ClientBase } | { pool: pg.Pool }, options: ReplayOptions): Promise<bigint> {
  const { store, def, schema, fanoutLimit, batchSize, until } = options;
  let position = options.from;
  // The next page is read while the current one is applied (reading and writing overlap).
  let next = store.readAll({ after: position, maxCount: batchSize });
  while (until === undefined || position < until) {
    const page = await next;
    const events = until === undefined ? page.events : page.events.filter((e) => e.globalPosition <= until);
    if (events.length === 0) break;
    const truncated = events.length < page.events.length;
    if (!truncated) next = store.readAll({ after: page.lastPosition, maxCount: batchSize });
    const apply = (client: pg.ClientBase) => def.apply(client, events, { schema, fanoutLimit });
    if ('client' in db) await apply(db.client);
    else await inTransaction(db.pool, async (client) => (await apply(client), true));
    position = events.at(-1)!.globalPosition;
    options.onBatch?.(position, events.length);
    if (truncated) break;
  }
  await next.catch(() => undefined); // a prefetch nobody needs must not surface as an unhandled rejection
  return position;
}
