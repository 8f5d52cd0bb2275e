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
  const connect = async (): Promise<Producer> => {
    const producer = options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // Java's murmur2 partitioner: the same key lands in the same partition as with Java clients.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => {});
      throw error;
    }
    return producer;
  };
  // After a failed send the idempotent producer's sequence numbers may no longer match the broker's
  // (a request can fail after the broker appended it, or a restarted broker can have lost the
  // producer's state): every later send is then refused with OUT_OF_ORDER_SEQUENCE_NUMBER, forever.
  // kafkajs never bumps the producer epoch itself, so a failed producer is dropped and the next
  // publish starts a new one (a new producer id, sequences from 0). The caller re-publishes from its
  // checkpoint; consumers deduplicate by position.
  let current: Producer | undefined = await connect();
  return {
    async publish(events: readonly RecordedEvent[]) {
      current ??= await connect();
      const producer = current;
      try {
        for (const chunk of chunksBySize(events.map(encodeEventMessage), MAX_SEND_BYTES)) {
          await producer.send({ topic: options.topic, acks: -1, messages: chunk });
        }
      } catch (error) {
        if (current === producer) current = undefined;
        // Not awaited: kafkajs first waits for the failed producer's pending requests (up to their
        // timeout), and the relay's retry must not wait behind a producer it no longer uses.
        void producer.disconnect().catch(() => {});
        throw error;
      }
    },
    async close() {
      const producer = current;
      current = undefined;
      await producer?.disconnect();
    },
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
