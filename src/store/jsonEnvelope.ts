// The JSON form of a recorded event, as `missive replay` prints it, the relay publishes it to Kafka and
// audit/analytics consumers read it: the full envelope, with the bigint global position as a decimal
// string and the time as ISO 8601.
import type { EventMetadata, RecordedEvent } from './eventStore.js';

export interface JsonEnvelope {
  eventId: string;
  type: string;
  streamId: string;
  streamPosition: number;
  globalPosition: string;
  recordedAt: string;
  data: unknown;
  metadata: EventMetadata;
}

export const toJsonEnvelope = (event: RecordedEvent): JsonEnvelope => ({
  eventId: event.eventId,
  type: event.type,
  streamId: event.streamId,
  streamPosition: event.streamPosition,
  globalPosition: event.globalPosition.toString(),
  recordedAt: event.recordedAt.toISOString(),
  data: event.data,
  metadata: event.metadata,
});

/** The recorded event back from its JSON envelope. */
export const fromJsonEnvelope = (envelope: JsonEnvelope): RecordedEvent => ({
  ...envelope,
  globalPosition: BigInt(envelope.globalPosition),
  recordedAt: new Date(envelope.recordedAt),
});
