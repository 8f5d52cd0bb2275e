// Reading PostgreSQL: a stream by position (committed rows only, and a stream's appends commit in
// position order thanks to the per-stream lock), and the global order below the oldest open
// transaction (see migrations/001_event_store.sql), so a reader never skips a late commit.
import type pg from 'pg';
import type { ReadAllOptions, ReadAllPage, ReadStreamOptions, RecordedEvent } from '../eventStore.js';
import { checkReadAllOptions, checkReadStreamOptions } from '../memory/requestChecks.js';
import {
  COMMITTED_HEAD_SQL,
  HEAD_POSITION_SQL,
  READ_ALL_SQL,
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
  const { rows } = await pool.query<EventRow>({
    name: 'missive_read_all',
    text: READ_ALL_SQL,
    values: [after.toString(), options.maxCount ?? null],
  });
  const events = rows.map(rowToRecord);
  const lastPosition = events.at(-1)?.globalPosition ?? after;
  // A full page is read on at once anyway; a short one asks whether the fence held events back.
  const full = options.maxCount !== undefined && events.length >= options.maxCount;
  if (full) return { events, lastPosition };
  const head = await pool.query<{ head: string }>({ name: 'missive_committed_head', text: COMMITTED_HEAD_SQL });
  return { events, lastPosition, heldBack: BigInt(head.rows[0]!.head) > lastPosition };
}

export async function headPositionInPostgres(pool: pg.Pool): Promise<bigint> {
  const { rows } = await pool.query<{ head: string }>({ name: 'missive_head_position', text: HEAD_POSITION_SQL });
  return BigInt(rows[0]!.head);
}
