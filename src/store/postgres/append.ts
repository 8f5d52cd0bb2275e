// Appending to PostgreSQL: one call of missive_append (see migrations/001_event_store.sql), a single
// statement and round trip, so the append transaction lasts as long as that statement. This module
// builds the call, maps its rows to the AppendResult and its failures to the port's errors.
import pg from 'pg';
import {
  EventIdConflictError,
  WrongExpectedRevisionError,
  type AppendResult,
  type EventMetadata,
  type ExpectedRevision,
  type NewEvent,
} from '../eventStore.js';
import { prepareAppend, revisionMatches, type PreparedEvent } from '../memory/requestChecks.js';
import { APPEND_SQL, STREAM_HEAD_SQL } from './sql.js';
import { isUnavailable, toStoreError } from './storeErrors.js';

export interface AppendSettings {
  maxEventBytes: number;
  /** Send a NOTIFY on the events channel when the append commits. */
  notify: boolean;
}

interface AppendRow {
  ordinal: number;
  duplicate: boolean;
  /** Only for duplicates: the stored type, data and metadata. */
  type: string | null;
  stream_position: string;
  global_position: string;
  recorded_at: Date;
  data: unknown;
  metadata: EventMetadata | null;
  stream_head: string;
}

const WRONG_EXPECTED_REVISION = 'MS001';
const EVENT_ID_IN_OTHER_STREAM = 'MS002';
/**
 * Races that a fresh attempt resolves: two streams inserting one event id at once (unique
 * violation, or a deadlock when two batches share ids in different orders). The retry sees the
 * winner's row and answers duplicate or EventIdConflictError.
 */
const RETRYABLE_RACES = new Set(['23505', '40P01']);
const MAX_ATTEMPTS = 3;

function eventsJson(prepared: PreparedEvent[]): string {
  const items = prepared.map(
    ({ event, dataJson, metadataJson }) =>
      `{"eventId":${JSON.stringify(event.eventId)},"type":${JSON.stringify(event.type)},"data":${dataJson},"metadata":${metadataJson}}`,
  );
  return `[${items.join(',')}]`;
}

function appendQuery(streamId: string, prepared: PreparedEvent[], expected: ExpectedRevision, notify: boolean): pg.QueryConfig {
  const exact = typeof expected === 'number';
  return {
    name: 'missive_append',
    text: APPEND_SQL,
    values: [streamId, eventsJson(prepared), exact ? 'exact' : expected, exact ? expected : null, notify],
  };
}

function toAppendResult(streamId: string, prepared: PreparedEvent[], rows: AppendRow[]): AppendResult {
  const events = rows.map((row, i) => {
    const input = prepared[i]!.event;
    return {
      duplicate: row.duplicate,
      record: {
        eventId: input.eventId,
        type: row.duplicate ? row.type! : input.type,
        streamId,
        streamPosition: Number(row.stream_position),
        globalPosition: BigInt(row.global_position),
        recordedAt: row.recorded_at,
        data: row.duplicate ? row.data : input.data,
        metadata: row.duplicate ? row.metadata! : input.metadata,
      },
    };
  });
  return { nextExpectedRevision: Number(rows[0]!.stream_head), events };
}

function translateAppendError(error: unknown, streamId: string, expected: ExpectedRevision): unknown {
  const { code, detail, hint } = error as { code?: string; detail?: string; hint?: string };
  if (code === WRONG_EXPECTED_REVISION) return new WrongExpectedRevisionError(streamId, expected, Number(detail));
  if (code === EVENT_ID_IN_OTHER_STREAM) return new EventIdConflictError(hint ?? '', detail ?? '');
  return toStoreError(error);
}

/** An empty append appends nothing but still answers the revision check, like a real one. */
async function appendNothing(queryable: pg.Pool | pg.ClientBase, streamId: string, expected: ExpectedRevision): Promise<AppendResult> {
  const { rows } = await queryable.query<{ head: string }>(STREAM_HEAD_SQL, [streamId]);
  const head = Number(rows[0]!.head);
  if (!revisionMatches(expected, head)) throw new WrongExpectedRevisionError(streamId, expected, head);
  return { nextExpectedRevision: head, events: [] };
}

async function appendOnce(
  queryable: pg.Pool | pg.ClientBase,
  streamId: string,
  prepared: PreparedEvent[],
  expected: ExpectedRevision,
  notify: boolean,
): Promise<AppendResult> {
  if (prepared.length === 0) return appendNothing(queryable, streamId, expected);
  const { rows } = await queryable.query<AppendRow>(appendQuery(streamId, prepared, expected, notify));
  return toAppendResult(streamId, prepared, rows);
}

/**
 * Runs `work` on a pooled connection. Unlike pool.query, which closes the connection after any
 * failed query, a server-side answer (a revision conflict, a refused value) keeps the connection:
 * otherwise every conflict would cost the next append a reconnect (measured: 8 ms instead of 0.3).
 */
async function onPooledClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    return await work(client);
  } catch (error) {
    if (!(error instanceof pg.DatabaseError) || isUnavailable(error)) broken = error as Error;
    throw error;
  } finally {
    client.release(broken);
  }
}

export async function appendToPostgres(
  pool: pg.Pool,
  settings: AppendSettings,
  streamId: string,
  events: NewEvent[],
  expected: ExpectedRevision,
): Promise<AppendResult> {
  const prepared = prepareAppend(streamId, events, expected, settings.maxEventBytes);
  for (let attempt = 1; ; attempt++) {
    try {
      return await onPooledClient(pool, (client) => appendOnce(client, streamId, prepared, expected, settings.notify));
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt < MAX_ATTEMPTS && code !== undefined && RETRYABLE_RACES.has(code)) continue;
      throw translateAppendError(error, streamId, expected);
    }
  }
}

export interface PendingAppend {
  /** What the append will have stored once committed. */
  result: AppendResult;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

/**
 * Runs an append in a transaction left open until commit() or rollback(): for tests that hold an
 * append open on purpose (a late commit), never for production paths.
 */
export async function beginAppend(
  pool: pg.Pool,
  settings: AppendSettings,
  streamId: string,
  events: NewEvent[],
  expected: ExpectedRevision,
): Promise<PendingAppend> {
  const prepared = prepareAppend(streamId, events, expected, settings.maxEventBytes);
  const client = await pool.connect();
  const finish = async (statement: 'COMMIT' | 'ROLLBACK') => {
    try {
      await client.query(statement);
    } finally {
      client.release();
    }
  };
  try {
    await client.query('BEGIN');
    const result = await appendOnce(client, streamId, prepared, expected, settings.notify);
    return { result, commit: () => finish('COMMIT'), rollback: () => finish('ROLLBACK') };
  } catch (error) {
    await finish('ROLLBACK').catch(() => {});
    throw translateAppendError(error, streamId, expected);
  }
}
