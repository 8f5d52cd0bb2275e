// Reads from EventStoreDB: one stream, the global order ($all) and its head. $all also holds the
// server's own records, so reads page through it and drop those; client errors leave as port errors.
import {
  BACKWARDS,
  END,
  FORWARDS,
  START,
  StreamNotFoundError,
  type Direction,
  type EventStoreDBClient,
  type Position,
  type ReadPosition,
  type ReadRevision,
} from '@eventstore/db-client';
import type { ReadAllOptions, ReadAllPage, ReadStreamOptions, RecordedEvent } from '../eventStore.js';
import { checkReadAllOptions, checkReadStreamOptions } from '../memory/requestChecks.js';
import { isTransportFailure, toStoreError } from './esdbErrors.js';
import {
  comparePositions,
  isSystemEvent,
  logPositionOf,
  positionAt,
  readStartAfter,
  streamReadRequest,
  toRecordedEvent,
  userEventsAfter,
  type EsdbResolvedEvent,
} from './esdbMapping.js';

/** Records per $all request: large enough to skip past the server's own records cheaply. */
const ALL_PAGE_SIZE = 1_000;
const BACKWARDS_PAGE_SIZE = 100;

async function collect<T>(read: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of read) items.push(item);
  return items;
}

/** One page of a stream; a stream that does not exist reads as empty. */
export async function readStreamPage(
  client: EventStoreDBClient,
  streamId: string,
  request: { direction: Direction; fromRevision: ReadRevision; maxCount?: number },
): Promise<EsdbResolvedEvent[]> {
  try {
    return await collect(client.readStream(streamId, request));
  } catch (error) {
    if (error instanceof StreamNotFoundError) return [];
    throw toStoreError(error, `read of stream ${streamId}`);
  }
}

export async function readStreamEvents(client: EventStoreDBClient, streamId: string, options: ReadStreamOptions): Promise<RecordedEvent[]> {
  checkReadStreamOptions(streamId, options);
  const request = streamReadRequest(options);
  if (!request) return [];
  return (await readStreamPage(client, streamId, request)).map(toRecordedEvent);
}

/**
 * Every record of $all from `start` in `direction`, paged. A page continues from the last record's
 * exact position, and a record at or before it (the inclusive start of the next page) is skipped.
 */
async function* allRecordsFrom(
  client: EventStoreDBClient,
  start: ReadPosition,
  direction: Direction,
  pageSize: number,
): AsyncGenerator<EsdbResolvedEvent> {
  const towards = direction === FORWARDS ? 1 : -1;
  let fromPosition = start;
  let last: Position | undefined;
  for (;;) {
    const page: EsdbResolvedEvent[] = await collect(client.readAll({ direction, fromPosition, maxCount: pageSize }));
    let progressed = false;
    for (const resolved of page) {
      const position = logPositionOf(resolved);
      if (!position || (last && comparePositions(position, last) * towards <= 0)) continue;
      last = position;
      progressed = true;
      yield resolved;
    }
    if (page.length < pageSize || !progressed || !last) return;
    fromPosition = last;
  }
}

async function userEventsFrom(client: EventStoreDBClient, start: ReadPosition, after: bigint, maxCount: number): Promise<ReadAllPage> {
  const events: RecordedEvent[] = [];
  const pageSize = Math.min(Math.max(maxCount + 1, 2), ALL_PAGE_SIZE);
  for await (const resolved of allRecordsFrom(client, start, FORWARDS, pageSize)) {
    events.push(...userEventsAfter([resolved], after));
    if (events.length >= maxCount) break;
  }
  return { events, lastPosition: events.at(-1)?.globalPosition ?? after };
}

/**
 * The position of the last record at or before `after` (START when there is none). EventStoreDB can
 * only start reading at a record boundary, and `after` may not be one (e.g. a position minus one).
 */
async function recordAtOrBefore(client: EventStoreDBClient, after: bigint): Promise<ReadPosition> {
  for await (const resolved of allRecordsFrom(client, END, BACKWARDS, BACKWARDS_PAGE_SIZE)) {
    const position = logPositionOf(resolved);
    if (position && position.commit <= after) return position;
  }
  return START;
}

export async function readAllPage(client: EventStoreDBClient, options: ReadAllOptions): Promise<ReadAllPage> {
  checkReadAllOptions(options);
  const after = options.after ?? 0n;
  const maxCount = options.maxCount ?? Number.POSITIVE_INFINITY;
  if (maxCount === 0) return { events: [], lastPosition: after };
  try {
    return await userEventsFrom(client, readStartAfter(after), after, maxCount);
  } catch (error) {
    if (after === 0n || isTransportFailure(error)) throw toStoreError(error, 'read of $all');
    // Most likely `after` is not a record boundary: start again from the record before it.
    try {
      return await userEventsFrom(client, await recordAtOrBefore(client, after), after, maxCount);
    } catch (retryError) {
      throw toStoreError(retryError, 'read of $all');
    }
  }
}

/** Where a subscription for "after `after`" can safely start: `after` itself when it is a record boundary. */
export async function subscriptionStartAfter(client: EventStoreDBClient, after: bigint): Promise<ReadPosition> {
  if (after === 0n) return START;
  try {
    const [first] = await collect(client.readAll({ direction: FORWARDS, fromPosition: positionAt(after), maxCount: 1 }));
    // Nothing there: `after` is at or past the end, where the server refuses to start a subscription.
    if (first) return positionAt(after);
  } catch (error) {
    if (isTransportFailure(error)) throw error;
  }
  return recordAtOrBefore(client, after);
}

/** The position of the newest event Missive can see (0n when there is none). */
export async function readHeadPosition(client: EventStoreDBClient): Promise<bigint> {
  try {
    for await (const resolved of allRecordsFrom(client, END, BACKWARDS, BACKWARDS_PAGE_SIZE)) {
      if (resolved.event && !isSystemEvent(resolved.event)) return toRecordedEvent(resolved).globalPosition;
    }
    return 0n;
  } catch (error) {
    throw toStoreError(error, 'read of the head of $all');
  }
}
