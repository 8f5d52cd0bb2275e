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
  return appendPrepared(pool, settings, streamId, prepareAppend(streamId, events, expected, settings.maxEventBytes), expected);
}

async function appendPrepared(
  pool: pg.Pool,
  settings: AppendSettings,
  streamId: string,
  prepared: PreparedEvent[],
  expected: ExpectedRevision,
): Promise<AppendResult> {
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

// ---------------------------------------------------------------------------------------------------
// Group commit. Appends to different streams that arrive while earlier ones are in flight are sent
// together as one missive_append_batch call (migrations/005_append_batch.sql, 006): one round trip, one
// transaction, one WAL flush and one NOTIFY for all of them, instead of one each. Alone (nothing in
// flight, or a single request queued) an append goes through missive_append exactly as before, so
// batching adds no latency when the store is idle. A request's answer is exactly what missive_append
// would have given it; a batch that fails as a whole (a race between streams on one event id, a
// deadlock) is appended request by request, and a lost connection fails every request of the batch.

interface QueuedAppend {
  streamId: string;
  prepared: PreparedEvent[];
  expected: ExpectedRevision;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

interface BatchRow extends Omit<AppendRow, 'ordinal'> {
  req: number;
  ordinal: number | null;
  error_code: string | null;
  error_detail: string | null;
  error_hint: string | null;
}

export interface AppendBatcherOptions {
  /** Statements (single or batched appends) on the wire at once; more requests wait and join one batch. */
  maxInFlight: number;
  /** Requests per batch statement at most. */
  maxBatch: number;
}

export const DEFAULT_APPEND_BATCHING: AppendBatcherOptions = { maxInFlight: 4, maxBatch: 128 };

export const APPEND_BATCH_SQL = 'SELECT * FROM missive_append_batch($1::jsonb, $2)';

function batchJson(requests: QueuedAppend[]): string {
  const items = requests.map((r) => {
    const exact = typeof r.expected === 'number';
    return `{"s":${JSON.stringify(r.streamId)},"e":${eventsJson(r.prepared)},"x":${JSON.stringify(exact ? 'exact' : r.expected)},"r":${exact ? r.expected : 'null'}}`;
  });
  return `[${items.join(',')}]`;
}

export interface AppendBatcher {
  append(streamId: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult>;
}

export function createAppendBatcher(pool: pg.Pool, settings: AppendSettings, options: AppendBatcherOptions = DEFAULT_APPEND_BATCHING): AppendBatcher {
  const queue: QueuedAppend[] = [];
  let inFlight = 0;

  /** Takes up to maxBatch queued requests, one per stream (a later one for a taken stream waits its turn). */
  function takeBatch(): QueuedAppend[] {
    const streams = new Set<string>();
    const eventIds = new Set<string>();
    const taken: QueuedAppend[] = [];
    for (let i = 0; i < queue.length && taken.length < options.maxBatch; ) {
      const request = queue[i]!;
      // Same stream twice, or one event id in two requests: not in one batch (missive_append_batch
      // needs distinct streams; a shared id would fail the whole batch).
      const clash = streams.has(request.streamId) || request.prepared.some((p) => eventIds.has(p.event.eventId));
      if (clash) {
        i++;
        continue;
      }
      streams.add(request.streamId);
      for (const p of request.prepared) eventIds.add(p.event.eventId);
      taken.push(request);
      queue.splice(i, 1);
    }
    return taken;
  }

  function pump(): void {
    while (inFlight < options.maxInFlight && queue.length > 0) {
      const batch = takeBatch();
      inFlight++;
      void run(batch).finally(() => {
        inFlight--;
        pump();
      });
    }
  }

  async function runAlone(request: QueuedAppend): Promise<void> {
    try {
      request.resolve(await appendPrepared(pool, settings, request.streamId, request.prepared, request.expected));
    } catch (error) {
      request.reject(error);
    }
  }

  async function run(batch: QueuedAppend[]): Promise<void> {
    if (batch.length === 1) return runAlone(batch[0]!);
    let rows: BatchRow[];
    try {
      rows = await onPooledClient(pool, async (client) => (await client.query<BatchRow>(APPEND_BATCH_SQL, [batchJson(batch), settings.notify])).rows);
    } catch (error) {
      // Answered by the server (a race, a deadlock): nothing of the batch was stored; one by one.
      if (error instanceof pg.DatabaseError && !isUnavailable(error)) {
        await Promise.all(batch.map(runAlone));
        return;
      }
      const translated = toStoreError(error);
      for (const request of batch) request.reject(translated);
      return;
    }
    const byRequest: BatchRow[][] = batch.map(() => []);
    for (const row of rows) byRequest[row.req - 1]!.push(row);
    batch.forEach((request, i) => {
      const own = byRequest[i]!;
      const failure = own.find((r) => r.error_code !== null);
      if (failure) {
        request.reject(
          translateAppendError({ code: failure.error_code, detail: failure.error_detail, hint: failure.error_hint }, request.streamId, request.expected),
        );
        return;
      }
      if (own.length !== request.prepared.length) {
        request.reject(new Error(`missive_append_batch answered ${own.length} rows for ${request.prepared.length} events of ${request.streamId}`));
        return;
      }
      request.resolve(toAppendResult(request.streamId, request.prepared, own as unknown as AppendRow[]));
    });
  }

  return {
    append(streamId, events, expected) {
      let prepared: PreparedEvent[];
      try {
        prepared = prepareAppend(streamId, events, expected, settings.maxEventBytes);
      } catch (error) {
        return Promise.reject(error);
      }
      // An empty append only checks the revision: no reason to batch it.
      if (prepared.length === 0) return appendPrepared(pool, settings, streamId, prepared, expected);
      return new Promise<AppendResult>((resolve, reject) => {
        queue.push({ streamId, prepared, expected, resolve, reject });
        pump();
      });
    },
  };
}
