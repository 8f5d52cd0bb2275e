// Pure translations between the EventStore port and @eventstore/db-client: expected revisions,
// positions, system-event filtering and event shapes. No I/O here, so every rule of the mapping is
// unit-tested without a server (test/store/eventStoreDbMapping.unit.spec.ts).
import {
  ANY,
  END,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  jsonEvent,
  type AppendExpectedRevision,
  type CurrentRevision,
  type EventData,
  type JSONType,
  type Position,
  type ReadPosition,
  type ReadRevision,
} from '@eventstore/db-client';
import {
  StoreUnavailableError,
  type AppendResult,
  type EventMetadata,
  type ExpectedRevision,
  type ReadStreamOptions,
  type RecordedEvent,
} from '../eventStore.js';
import type { PreparedEvent } from '../memory/requestChecks.js';

/** The fields of a client RecordedEvent this adapter reads; the client's own types satisfy it. */
export interface EsdbRecordedEvent {
  streamId: string;
  id: string;
  revision: bigint;
  type: string;
  created: Date;
  data: unknown;
  metadata: unknown;
  position?: Position;
}

/** The fields of a client ResolvedEvent (stream read, $all read or subscription) this adapter reads. */
export interface EsdbResolvedEvent {
  event?: EsdbRecordedEvent;
  commitPosition?: bigint;
}

// ---- expected revisions ----

/**
 * Whether a loose expectation can be sent as the exact head the appender just observed: 'any' always,
 * 'stream_exists' once the stream exists (pinning it on a missing stream would mean no_stream).
 */
export const canPinToHead = (expected: ExpectedRevision, head: number): boolean =>
  expected === 'any' || (expected === 'stream_exists' && head >= 0);

const exactRevision = (head: number): AppendExpectedRevision => (head < 0 ? NO_STREAM : BigInt(head));

/**
 * The expected revision sent to the server. With `pinToHead`, a loose expectation becomes the exact
 * head observed just before: EventStoreDB deduplicates event ids reliably only against an exact
 * expected revision, and a conflict then tells us another writer got in first (we re-check and retry).
 */
export function expectedRevisionForServer(expected: ExpectedRevision, head: number, pinToHead: boolean): AppendExpectedRevision {
  switch (expected) {
    case 'any':
      return pinToHead ? exactRevision(head) : ANY;
    case 'stream_exists':
      return pinToHead && canPinToHead(expected, head) ? BigInt(head) : STREAM_EXISTS;
    case 'no_stream':
      return NO_STREAM;
    default:
      return exactRevision(expected);
  }
}

/** Our number for the stream's head in a client error or result: -1 when there is no stream. */
export function headFromCurrentRevision(current: CurrentRevision | undefined): number | undefined {
  if (current === undefined) return undefined;
  return current === NO_STREAM ? -1 : Number(current);
}

// ---- positions ----

/** Sent by older servers for "position unknown" on stream reads (uint64 max). */
const UNKNOWN_POSITION = 0xffff_ffff_ffff_ffffn;

/**
 * A gRPC-written event has one record in the log, so its commit and prepare positions are equal: our
 * single bigint globalPosition maps back to a full client position without loss.
 */
export const positionAt = (globalPosition: bigint): Position => ({ commit: globalPosition, prepare: globalPosition });

/** Where a forwards read of $all starts for "after `after`" (the start of the log for 0n). */
export const readStartAfter = (after: bigint): ReadPosition => (after === 0n ? START : positionAt(after));

/** Orders two log positions: negative when a is earlier. */
export function comparePositions(a: Position, b: Position): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

/** The event's commit position, or undefined when the server did not send a usable one. */
export function commitPositionOf(resolved: EsdbResolvedEvent): bigint | undefined {
  for (const candidate of [resolved.event?.position?.commit, resolved.commitPosition]) {
    if (candidate !== undefined && candidate > 0n && candidate < UNKNOWN_POSITION) return candidate;
  }
  return undefined;
}

/** The full log position of a record read from $all (used to continue paging exactly). */
export function logPositionOf(resolved: EsdbResolvedEvent): Position | undefined {
  if (resolved.event?.position) return resolved.event.position;
  return resolved.commitPosition === undefined ? undefined : positionAt(resolved.commitPosition);
}

// ---- which events Missive sees ----

/** Server-written records ($-types such as $metadata, $> links, $stats; $-streams) are never ours. */
export const isSystemEvent = (event: { type: string; streamId: string }): boolean =>
  event.type.startsWith('$') || event.streamId.startsWith('$');

/** The events of a raw $all batch that a reader of the global order after `after` may see, converted. */
export function userEventsAfter(batch: readonly EsdbResolvedEvent[], after: bigint): RecordedEvent[] {
  const visible: RecordedEvent[] = [];
  for (const resolved of batch) {
    if (!resolved.event || isSystemEvent(resolved.event)) continue;
    const commit = commitPositionOf(resolved);
    if (commit !== undefined && commit <= after) continue;
    visible.push(toRecordedEvent(resolved));
  }
  return visible;
}

// ---- event shapes ----

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);

/** Metadata of an event not written by Missive (none, binary): schemaVersion 0 marks it as foreign. */
const foreignMetadata = (): EventMetadata => ({ actorId: '', schemaVersion: 0 });

export function toRecordedEvent(resolved: EsdbResolvedEvent): RecordedEvent {
  const event = resolved.event;
  if (!event) throw new StoreUnavailableError('EventStoreDB returned a record without an event (an unresolved link)');
  const globalPosition = commitPositionOf(resolved);
  if (globalPosition === undefined) {
    throw new StoreUnavailableError(
      `EventStoreDB did not return the log position of event ${event.id}; Missive needs EventStoreDB 22.6 or later`,
    );
  }
  return {
    eventId: event.id,
    type: event.type,
    streamId: event.streamId,
    streamPosition: Number(event.revision),
    globalPosition,
    recordedAt: event.created,
    data: event.data,
    metadata: isPlainObject(event.metadata) ? (event.metadata as unknown as EventMetadata) : foreignMetadata(),
  };
}

/** A validated event as the client's JSON event (data and metadata both stored as JSON). */
export function toEventData(prepared: PreparedEvent): EventData {
  const { eventId, type, data, metadata } = prepared.event;
  return jsonEvent({ id: eventId, type, data: data as JSONType, metadata: metadata as unknown as JSONType });
}

/** One entry per requested event, in order: the duplicates as stored, the rest as just appended. */
export function appendResultOf(
  eventIds: readonly string[],
  duplicates: ReadonlyMap<string, RecordedEvent>,
  appended: ReadonlyMap<string, RecordedEvent>,
  nextExpectedRevision: number,
): AppendResult {
  const events = eventIds.map((eventId) => {
    const duplicate = duplicates.get(eventId);
    if (duplicate) return { record: duplicate, duplicate: true };
    const record = appended.get(eventId);
    if (!record) throw new StoreUnavailableError(`EventStoreDB acknowledged the append but event ${eventId} is not where it reported`);
    return { record, duplicate: false };
  });
  return { nextExpectedRevision, events };
}

// ---- stream reads ----

export interface StreamReadRequest {
  direction: 'forwards' | 'backwards';
  fromRevision: ReadRevision;
  maxCount?: number;
}

/** The client read for validated port options; undefined when the answer is empty without asking. */
export function streamReadRequest(options: ReadStreamOptions): StreamReadRequest | undefined {
  if (options.maxCount === 0) return undefined;
  const direction = options.direction ?? 'forwards';
  const fromRevision: ReadRevision =
    options.fromPosition === undefined ? (direction === 'forwards' ? START : END) : BigInt(options.fromPosition);
  return options.maxCount === undefined ? { direction, fromRevision } : { direction, fromRevision, maxCount: options.maxCount };
}

// ---- connection strings ----

/** KurrentDB's URL schemes, accepted for the esdb:// schemes this client version understands. */
export function normalizeConnectionString(connectionString: string): string {
  return connectionString.trim().replace(/^(?:kurrentdb|kurrent|kdb)(\+discover)?:\/\//i, (_, discover: string | undefined) => `esdb${discover ?? ''}://`);
}
