// The input rules of the EventStore port, checked before an adapter touches its storage, so every
// adapter rejects the same bad requests with the same typed errors and changes nothing. It lives
// beside the memory adapter (the reference semantics) and is shared by the other adapters.
import {
  EventIdConflictError,
  EventTooLargeError,
  type ExpectedRevision,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type SubscribeOptions,
} from '../eventStore.js';

/** A request the store cannot accept as given (malformed id, stream, payload or option). */
export class InvalidStoreRequestError extends Error {
  readonly code = 'invalid_store_request';
}

/** A validated event with its JSON text, measured once and reused by the adapter. */
export interface PreparedEvent {
  event: NewEvent;
  dataJson: string;
  metadataJson: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// A NUL character (escaped by JSON.stringify as \u0000, not preceded by an escaping backslash):
// PostgreSQL text and jsonb cannot store it, so no adapter accepts it.
const ESCAPED_NUL = /(?<!\\)(?:\\\\)*\\u0000/;

export function checkStreamId(streamId: unknown): asserts streamId is string {
  if (typeof streamId !== 'string' || streamId.length === 0 || streamId.includes('\u0000')) {
    throw new InvalidStoreRequestError('A stream id must be a non-empty string without NUL characters');
  }
}

export function checkExpectedRevision(expected: unknown): asserts expected is ExpectedRevision {
  const named = expected === 'any' || expected === 'no_stream' || expected === 'stream_exists';
  if (!named && !(typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= -1)) {
    throw new InvalidStoreRequestError(`Invalid expected revision: ${String(expected)}`);
  }
}

/** Validates an append and measures its events; throws before anything is stored. */
export function prepareAppend(streamId: string, events: NewEvent[], expected: ExpectedRevision, maxEventBytes: number): PreparedEvent[] {
  checkStreamId(streamId);
  checkExpectedRevision(expected);
  if (!Array.isArray(events)) throw new InvalidStoreRequestError('events must be an array');
  const seen = new Set<string>();
  return events.map((event) => {
    const prepared = prepareEvent(event, maxEventBytes);
    if (seen.has(prepared.event.eventId)) throw new EventIdConflictError(prepared.event.eventId, streamId);
    seen.add(prepared.event.eventId);
    return prepared;
  });
}

function prepareEvent(event: NewEvent, maxEventBytes: number): PreparedEvent {
  if (typeof event !== 'object' || event === null) throw new InvalidStoreRequestError('An event must be an object');
  if (typeof event.eventId !== 'string' || !UUID.test(event.eventId)) {
    throw new InvalidStoreRequestError(`Event id ${String(event.eventId)} is not a UUID`);
  }
  const eventId = event.eventId.toLowerCase();
  if (typeof event.type !== 'string' || event.type.length === 0 || event.type.includes('\u0000')) {
    throw new InvalidStoreRequestError(`Event ${eventId}: type must be a non-empty string without NUL characters`);
  }
  if (typeof event.metadata !== 'object' || event.metadata === null || Array.isArray(event.metadata)) {
    throw new InvalidStoreRequestError(`Event ${eventId}: metadata must be an object`);
  }
  const dataJson = toJson(eventId, 'data', event.data);
  const metadataJson = toJson(eventId, 'metadata', event.metadata);
  const bytes = Buffer.byteLength(dataJson) + Buffer.byteLength(metadataJson);
  if (bytes > maxEventBytes) throw new EventTooLargeError(eventId, bytes, maxEventBytes);
  return { event: eventId === event.eventId ? event : { ...event, eventId }, dataJson, metadataJson };
}

function toJson(eventId: string, field: string, value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new InvalidStoreRequestError(`Event ${eventId}: ${field} is not serialisable as JSON`, { cause: error });
  }
  if (json === undefined) throw new InvalidStoreRequestError(`Event ${eventId}: ${field} is not serialisable as JSON`);
  if (ESCAPED_NUL.test(json)) throw new InvalidStoreRequestError(`Event ${eventId}: ${field} contains a NUL character`);
  return json;
}

/** Whether a stream whose last position is `head` (-1: no stream) satisfies `expected`. */
export function revisionMatches(expected: ExpectedRevision, head: number): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return head === -1;
    case 'stream_exists':
      return head >= 0;
    default:
      return head === expected;
  }
}

const isCount = (value: unknown): boolean => value === undefined || (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0);

export function checkReadStreamOptions(streamId: string, options: ReadStreamOptions): void {
  checkStreamId(streamId);
  const { direction, fromPosition, maxCount } = options;
  if (direction !== undefined && direction !== 'forwards' && direction !== 'backwards') {
    throw new InvalidStoreRequestError(`Invalid read direction: ${String(direction)}`);
  }
  if (!isCount(fromPosition)) throw new InvalidStoreRequestError(`Invalid fromPosition: ${String(fromPosition)}`);
  if (!isCount(maxCount)) throw new InvalidStoreRequestError(`Invalid maxCount: ${String(maxCount)}`);
}

export function checkReadAllOptions(options: ReadAllOptions): void {
  if (options.after !== undefined && (typeof options.after !== 'bigint' || options.after < 0n)) {
    throw new InvalidStoreRequestError(`Invalid position: ${String(options.after)}`);
  }
  if (!isCount(options.maxCount)) throw new InvalidStoreRequestError(`Invalid maxCount: ${String(options.maxCount)}`);
}

export function checkSubscribeOptions(options: SubscribeOptions): void {
  if (typeof options.after !== 'bigint' || options.after < 0n) throw new InvalidStoreRequestError(`Invalid position: ${String(options.after)}`);
  const { batchSize } = options;
  if (batchSize !== undefined && !(Number.isSafeInteger(batchSize) && batchSize > 0)) {
    throw new InvalidStoreRequestError(`Invalid batchSize: ${String(batchSize)}`);
  }
  if (typeof options.onEvents !== 'function') throw new InvalidStoreRequestError('onEvents must be a function');
}
