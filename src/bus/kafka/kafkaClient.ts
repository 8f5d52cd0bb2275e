// The kafkajs client and the events topic. kafkajs logs through our logger (its INFO chatter is
// dropped; its ERRORs are mostly transient — a coordinator loading, a rebalance — and retried by it,
// so they are warnings here).
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { BusLogger } from '../eventBus.js';

export const EVENTS_TOPIC = 'missive.events';
export const DEFAULT_PARTITIONS = 12;
/** Per-message limit on the topic: an event may be 1 MiB (MAX_EVENT_BYTES) plus its envelope. */
export const TOPIC_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

export interface KafkaSettings {
  brokers: readonly string[];
  /** Default 'missive.events'. */
  topic?: string;
  /** Partitions of the topic when this process creates it (default 12); an existing topic is left as it is. */
  partitions?: number;
  clientId?: string;
}

export function createKafka(settings: KafkaSettings, logger: BusLogger): Kafka {
  return new Kafka({
    clientId: settings.clientId ?? 'missive',
    brokers: [...settings.brokers],
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log }: LogEntry) => {
        const { message, ...rest } = log;
        const entry = { component: 'kafkajs', namespace, ...rest };
        if (level <= logLevel.WARN) logger.warn(entry, message);
        else logger.info(entry, message);
      },
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 5_000 },
  });
}

/** Creates the events topic when missing and returns its partition count. */
export async function ensureEventsTopic(kafka: Kafka, topic: string, partitions: number): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      // Two processes may race here; the loser's create answers false (TOPIC_ALREADY_EXISTS is ignored).
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions: partitions, configEntries: [{ name: 'max.message.bytes', value: String(TOPIC_MAX_MESSAGE_BYTES) }] }],
      });
    }
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    return metadata.topics[0]!.partitions.length;
  } finally {
    await admin.disconnect();
  }
}
