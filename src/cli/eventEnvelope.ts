// The JSON form of a recorded event, as `missive replay` prints it and audit/analytics consumers read
// it: the full envelope, with the bigint global position as a decimal string and the time as ISO 8601.
import type { EventMetadata, RecordedEvent } from '../store/eventStore.js';

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
