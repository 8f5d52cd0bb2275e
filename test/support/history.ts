// Writes a generated history (test/oracle/generators.ts) into a real event store exactly as the
// command handler would: one append per accepted command, with the expected revision the writer
// believes in, so retried sends reach the store and are deduplicated by it. Reads the log back in
// global order for the oracle.
import type pg from 'pg';
import type { EventStore, NewEvent, RecordedEvent } from '../../src/store/eventStore.js';

/** One accepted command's events, appended together to one stream. */
export interface HistoryAppend {
  streamId: string;
  events: NewEvent[];
}

/**
 * Appends `appends` in order; the store's answer decides each stream's next expected revision.
 * Returns the highest global position recorded (0n for none): unlike headPosition(), which stops
 * below any open transaction (a running projector's included), it is where the log really ends.
 */
export async function appendHistory(store: EventStore, appends: readonly HistoryAppend[], heads = new Map<string, number>()): Promise<bigint> {
  let last = 0n;
  for (const { streamId, events } of appends) {
    const result = await store.append(streamId, events, heads.get(streamId) ?? -1);
    heads.set(streamId, result.nextExpectedRevision);
    for (const { record } of result.events) if (record.globalPosition > last) last = record.globalPosition;
  }
  return last;
}

/**
 * Appends a history in two parts with `between` run after the first part (given where it ended): the
 * second part continues with the revisions the first part reached.
 */
export async function appendHistoryInParts(
  store: EventStore,
  appends: readonly HistoryAppend[],
  splitAt: number,
  between: (firstPartEnd: bigint) => Promise<void>,
): Promise<void> {
  const heads = new Map<string, number>();
  await between(await appendHistory(store, appends.slice(0, splitAt), heads));
  await appendHistory(store, appends.slice(splitAt), heads);
}

/** The whole log in global order. */
export async function readWholeLog(store: EventStore, pageSize = 500): Promise<RecordedEvent[]> {
  const log: RecordedEvent[] = [];
  let after = 0n;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const page = await store.readAll({ after, maxCount: pageSize });
    if (page.events.length === 0 && page.heldBack && Date.now() < deadline) {
      // Committed events wait behind an open transaction (e.g. an autovacuum): the whole log includes them.
      await new Promise((resolve) => setTimeout(resolve, 10));
      continue;
    }
    if (page.events.length === 0) return log;
    log.push(...page.events);
    after = page.lastPosition;
  }
}

/**
 * Empties the log and every projection's tables and sets their checkpoints back to 0: a fresh world
 * in the same database, much cheaper than a new database or recreating the schemas.
 */
export async function resetWorld(pool: pg.Pool, projectionSchemas: readonly string[]): Promise<void> {
  const tables = await pool.query<{ name: string }>(
    `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables WHERE schemaname = ANY($1::text[])`,
    [[...projectionSchemas]],
  );
  const names = ['events', ...tables.rows.map((t) => t.name)];
  await pool.query(`TRUNCATE ${names.join(', ')} RESTART IDENTITY`);
  await pool.query('UPDATE projection_checkpoints SET position = 0');
}
