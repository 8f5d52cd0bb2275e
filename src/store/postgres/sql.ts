// The SQL the PostgreSQL event store sends, and the mapping of its rows to the port's types. The
// append itself lives in the migration (missive_append), so an append is a single statement.
import type { EventMetadata, RecordedEvent } from '../eventStore.js';

/** The LISTEN/NOTIFY channel missive_append notifies (payload: the last new global position). */
export const EVENTS_CHANNEL = 'missive_events';

/**
 * Rows whose transaction committed below every open transaction that could still append here: see
 * migrations/001 and 004. The sub-select makes the fence an init plan, computed once per statement.
 */
const BELOW_OPEN_TRANSACTIONS = 'transaction_id < (SELECT missive_read_fence())';

/**
 * The application_name a transaction sets (SET LOCAL, before its first write) to promise it never
 * appends events, so readers of the global order need not wait for it. Appending under it fails.
 */
export const NO_APPENDS_APPLICATION_NAME = 'missive:no-appends';

const EVENT_COLUMNS = 'event_id, type, stream_id, stream_position, global_position, recorded_at, data, metadata';

export const APPEND_SQL = 'SELECT * FROM missive_append($1, $2::jsonb, $3, $4, $5)';

export const STREAM_HEAD_SQL = 'SELECT coalesce(max(stream_position), -1)::text AS head FROM events WHERE stream_id = $1';

// LIMIT NULL means no limit.
export const READ_STREAM_FORWARDS_SQL = `SELECT ${EVENT_COLUMNS} FROM events
  WHERE stream_id = $1 AND stream_position >= $2 ORDER BY stream_position LIMIT $3`;

export const READ_STREAM_BACKWARDS_SQL = `SELECT ${EVENT_COLUMNS} FROM events
  WHERE stream_id = $1 AND ($2::bigint IS NULL OR stream_position <= $2) ORDER BY stream_position DESC LIMIT $3`;

export const READ_ALL_SQL = `SELECT ${EVENT_COLUMNS} FROM events
  WHERE global_position > $1 AND ${BELOW_OPEN_TRANSACTIONS} ORDER BY global_position LIMIT $2`;

/**
 * READ_ALL_SQL and COMMITTED_HEAD_SQL in one statement (one round trip, one snapshot): the page, each
 * row carrying the newest committed position; an empty page is one row of NULLs with the head. A
 * commit after this snapshot is not in the head, but its append wakes the readers anyway.
 */
export const READ_ALL_WITH_HEAD_SQL = `SELECT page.*, h.committed_head
  FROM (SELECT coalesce(max(global_position), 0)::text AS committed_head FROM events) h
  LEFT JOIN LATERAL (SELECT ${EVENT_COLUMNS} FROM events
     WHERE global_position > $1 AND ${BELOW_OPEN_TRANSACTIONS} ORDER BY global_position LIMIT $2) page ON true
  ORDER BY page.global_position`;

/** The newest committed position regardless of the fence: above a page's end means events were held back. */
export const COMMITTED_HEAD_SQL = 'SELECT coalesce(max(global_position), 0)::text AS head FROM events';

export const HEAD_POSITION_SQL = `SELECT coalesce(max(global_position), 0)::text AS head FROM events WHERE ${BELOW_OPEN_TRANSACTIONS}`;

/** An events row as node-postgres returns it: int8 comes back as a string. */
export interface EventRow {
  event_id: string;
  type: string;
  stream_id: string;
  stream_position: string;
  global_position: string;
  recorded_at: Date;
  data: unknown;
  metadata: EventMetadata;
}

export function rowToRecord(row: EventRow): RecordedEvent {
  return {
    eventId: row.event_id,
    type: row.type,
    streamId: row.stream_id,
    streamPosition: Number(row.stream_position),
    globalPosition: BigInt(row.global_position),
    recordedAt: row.recorded_at,
    data: row.data,
    metadata: row.metadata,
  };
}
