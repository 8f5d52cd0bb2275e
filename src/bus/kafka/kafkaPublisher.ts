// Publishes recorded events to the events topic with kafkajs's idempotent producer and acks=all.
// Throughput comes from batching: each send carries many events (one request per broker), because
// awaiting one send per event caps kafkajs near 2,000 messages/s. Sends are issued one at a time:
// the idempotent producer numbers each partition's batches and only in-order requests keep a retry
// from reordering a conversation.
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { RecordedEvent } from '../../store/eventStore.js';
import type { EventPublisher } from '../eventBus.js';
import { encodeEventMessage, type EventMessage } from './eventMessage.js';
import { TOPIC_MAX_MESSAGE_BYTES } from './kafkaClient.js';

/** Bytes of message values per send: well under the broker's request limit (100 MiB) and the topic's record limit. */
const MAX_SEND_BYTES = TOPIC_MAX_MESSAGE_BYTES / 2;

export interface KafkaPublisherOptions {
  kafka: Kafka;
  topic: string;
}

export async function createKafkaPublisher(options: KafkaPublisherOptions): Promise<EventPublisher> {
  const producer: Producer = options.kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    // Java's murmur2 partitioner: the same key lands in the same partition as with Java clients.
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  return {
    async publish(events: readonly RecordedEvent[]) {
      for (const chunk of chunksBySize(events.map(encodeEventMessage), MAX_SEND_BYTES)) {
        await producer.send({ topic: options.topic, acks: -1, messages: chunk });
      }
    },
    close: () => producer.disconnect(),
  };
}

/** Splits messages in order into runs of at most `maxBytes` of values (a bigger single message goes alone). */
export function chunksBySize(messages: readonly EventMessage[], maxBytes: number): EventMessage[][] {
  const chunks: EventMessage[][] = [];
  let current: EventMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = Buffer.byteLength(message.value);
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
