// How one recorded event travels on the `missive.events` topic: key = stream id (Kafka keeps one
// key's messages in order in one partition, so each conversation's order survives); headers = global
// position, type and event id (consumers can route and deduplicate without parsing the value);
// value = the whole envelope as JSON, bigints as decimal strings.
import type { RecordedEvent } from '../../store/eventStore.js';
import { fromJsonEnvelope, toJsonEnvelope, type JsonEnvelope } from '../../store/jsonEnvelope.js';

export const HEADER_GLOBAL_POSITION = 'globalPosition';
export const HEADER_TYPE = 'type';
export const HEADER_EVENT_ID = 'eventId';

export interface EventMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

export function encodeEventMessage(event: RecordedEvent): EventMessage {
  const value = JSON.stringify(toJsonEnvelope(event));
  return {
    key: event.streamId,
    value,
    headers: {
      [HEADER_GLOBAL_POSITION]: event.globalPosition.toString(),
      [HEADER_TYPE]: event.type,
      [HEADER_EVENT_ID]: event.eventId,
    },
  };
}

/** The envelope back from a message's value (kafkajs hands values and headers over as Buffers). */
export function decodeEventMessage(value: Buffer | string): RecordedEvent {
  return fromJsonEnvelope(JSON.parse(value.toString()) as JsonEnvelope);
}

/** A message's global position from its header (undefined when the header is missing). */
export function messageGlobalPosition(headers: Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined): bigint | undefined {
  const header = headers?.[HEADER_GLOBAL_POSITION];
  const raw = Array.isArray(header) ? header[0] : header;
  return raw === undefined ? undefined : BigInt(raw.toString());
}
