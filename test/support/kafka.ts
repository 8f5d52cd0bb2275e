// The real Kafka broker that .ci/run starts (scripts/start-kafka.sh) for tests of the relay and the
// consumer-group projectors. Tests read KAFKA_BROKERS here and nowhere else and skip with
// KAFKA_SKIP_REASON when it is unset. Runs share one broker: each test uses its own topic and group.
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { decodeEventMessage, messageGlobalPosition, HEADER_EVENT_ID, HEADER_TYPE } from '../../src/bus/kafka/eventMessage.js';
import { createKafka } from '../../src/bus/kafka/kafkaClient.js';
import type { RecordedEvent } from '../../src/store/eventStore.js';

export const KAFKA_SKIP_REASON = 'SKIPPED: KAFKA_BROKERS is not set; .ci/run starts a broker with scripts/start-kafka.sh and sets it';

export const testKafkaBrokers = (): string[] | undefined => process.env['KAFKA_BROKERS']?.split(',').filter(Boolean) || undefined;

export const uniqueTopic = (name: string): string => `test.${name}.${randomUUID().slice(0, 8)}`;

/** The environment of `missive serve` nodes that share one database and one Kafka topic (4 partitions). */
export function distributedServeEnv(options: { databaseUrl: string; brokers: string[]; topic: string; jwtSecret: string }): Record<string, string> {
  return {
    DATABASE_URL: options.databaseUrl,
    KAFKA_BROKERS: options.brokers.join(','),
    MISSIVE_KAFKA_TOPIC: options.topic,
    MISSIVE_KAFKA_PARTITIONS: '4',
    MISSIVE_KAFKA_GROUP: `group-${options.topic}`,
    MISSIVE_DEV_AUTH: 'true',
    MISSIVE_JWT_SECRET: options.jwtSecret,
    MISSIVE_LOG_LEVEL: 'info',
  };
}

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
export const testKafka = (brokers: string[]): Kafka => createKafka({ brokers, clientId: 'missive-test' }, quiet);

/** One message as a consumer sees it, with what it claims in key and headers. */
export interface SeenMessage {
  partition: number;
  offset: number;
  key: string;
  headerPosition: bigint;
  headerType: string;
  headerEventId: string;
  event: RecordedEvent;
}

/** Every message of the topic, partition by partition in offset order (reads up to the current high watermarks). */
export async function readWholeTopic(kafka: Kafka, topic: string, timeoutMs = 20_000): Promise<Map<number, SeenMessage[]>> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const ends = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  const seen = new Map<number, SeenMessage[]>([...ends.keys()].map((p) => [p, []]));
  const done = () => [...ends].every(([p, high]) => (seen.get(p)!.at(-1)?.offset ?? -1) >= high - 1);
  if (done()) return seen;
  const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const headers = message.headers ?? {};
      seen.get(partition)!.push({
        partition,
        offset: Number(message.offset),
        key: message.key!.toString(),
        headerPosition: messageGlobalPosition(headers)!,
        headerType: String(headers[HEADER_TYPE]),
        headerEventId: String(headers[HEADER_EVENT_ID]),
        event: decodeEventMessage(message.value!),
      });
      if (done()) finish();
    },
  });
  const timer = setTimeout(finish, timeoutMs);
  await finished;
  clearTimeout(timer);
  await consumer.disconnect();
  if (!done()) throw new Error(`did not read topic ${topic} to its end within ${timeoutMs} ms`);
  return seen;
}

/**
 * What a consumer deduplicating by position keeps of one partition: each message whose global
 * position is above every one before it (a republished suffix after a relay restart is dropped).
 */
export function dedupeByPosition(messages: readonly SeenMessage[]): SeenMessage[] {
  const kept: SeenMessage[] = [];
  let highest = -1n;
  for (const message of messages) {
    if (message.headerPosition > highest) {
      kept.push(message);
      highest = message.headerPosition;
    }
  }
  return kept;
}
