// Reading PostgreSQL: a stream by position (committed rows only, and a stream's appends commit in
// position order thanks to the per-stream lock), and the global order below the oldest open
// transaction (see migrations/001_event_store.sql), so a reader never skips a late commit.
import type pg from 'pg';
import type { ReadAllOptions, ReadAllPage, ReadStreamOptions, RecordedEvent } from '../eventStore.js';
import { checkReadAllOptions, checkReadStreamOptions } from '../memory/requestChecks.js';
import {
  HEAD_POSITION_SQL,
  READ_ALL_WITH_HEAD_SQL,
  READ_STREAM_BACKWARDS_SQL,
  READ_STREAM_FORWARDS_SQL,
  rowToRecord,
  type EventRow,
} from './sql.js';

export async function readStreamFromPostgres(pool: pg.Pool, streamId: string, options: ReadStreamOptions): Promise<RecordedEvent[]> {
  checkReadStreamOptions(streamId, options);
  const backwards = options.direction === 'backwards';
  const { rows } = await pool.query<EventRow>({
    name: backwards ? 'missive_read_stream_backwards' : 'missive_read_stream_forwards',
    text: backwards ? READ_STREAM_BACKWARDS_SQL : READ_STREAM_FORWARDS_SQL,
    values: [streamId, options.fromPosition ?? (backwards ? null : 0), options.maxCount ?? null],
  });
  return rows.map(rowToRecord);
}

export async function readAllFromPostgres(pool: pg.Pool, options: ReadAllOptions): Promise<ReadAllPage> {
  checkReadAllOptions(options);
  const after = options.after ?? 0n;
  // The page and the committed head together: a short page asks whether the fence held events back.
  const { rows } = await pool.query<EventRow & { committed_head: string }>({
    name: 'missive_read_all_with_head',
    text: READ_ALL_WITH_HEAD_SQL,
    values: [after.toString(), options.maxCount ?? null],
  });
  const head = rows.length > 0 ? BigInt(rows[0]!.committed_head) : 0n;
  const events: RecordedEvent[] = [];
  for (const row of rows) if (row.event_id !== null) events.push(rowToRecord(row));
  const lastPosition = events.at(-1)?.globalPosition ?? after;
  const full = options.maxCount !== undefined && events.length >= options.maxCount;
  if (full) return { events, lastPosition };
  return { events, lastPosition, heldBack: head > lastPosition };
}

export async function headPositionInPostgres(pool: pg.Pool): Promise<bigint> {
  const { rows } = await pool.query<{ head: string }>({ name: 'missive_head_position', text: HEAD_POSITION_SQL });
  return BigInt(rows[0]!.head);
}
