// The roles that talk to Kafka (DESIGN.md §8, docs/distributed.md), started by serve.ts when
// KAFKA_BROKERS is set: the relay (event store → missive.events) and the projector as a member of
// the projectors' consumer group. Each returns its own close function.
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Kafka } from 'kafkajs';
import type { Config } from '../config/config.js';
import { createKafka, ensureEventsTopic } from '../bus/kafka/kafkaClient.js';
import { createKafkaPublisher } from '../bus/kafka/kafkaPublisher.js';
import { createKafkaProjectorGroup } from '../projector/kafkaProjectorGroup.js';
import type { ProjectionRunnerOptions } from '../projections/runtime.js';
import { createRelay } from '../relay/relay.js';
import type { EventStore } from '../store/eventStore.js';

export interface KafkaBus {
  kafka: Kafka;
  topic: string;
  partitionCount: number;
}

/** Connects to the brokers and makes sure the events topic exists (with MISSIVE_KAFKA_PARTITIONS when created here). */
export async function connectKafkaBus(config: Config, brokers: readonly string[], logger: Logger): Promise<KafkaBus> {
  const kafka = createKafka({ brokers, clientId: `missive-${config.nodeId}` }, logger.child({ component: 'kafka' }));
  const partitionCount = await ensureEventsTopic(kafka, config.kafka.topic, config.kafka.partitions);
  return { kafka, topic: config.kafka.topic, partitionCount };
}

/** The relay: publishes the store's global order to the events topic; one active per cluster (advisory lock). */
export async function startRelayRole(bus: KafkaBus, pool: pg.Pool, store: EventStore, logger: Logger): Promise<() => Promise<void>> {
  const publisher = await createKafkaPublisher({ kafka: bus.kafka, topic: bus.topic });
  const relay = createRelay({ pool, store, publisher, name: `kafka:${bus.topic}`, logger: logger.child({ component: 'relay' }) });
  await relay.start();
  logger.info({ topic: bus.topic, partitions: bus.partitionCount }, 'relay started');
  return async () => {
    await relay.stop();
    await publisher.close();
  };
}

/** The projector as a consumer-group member: runs the projections its partitions give it. */
export async function startGroupProjectorRole(bus: KafkaBus, config: Config, runnerOptions: Omit<ProjectionRunnerOptions, 'logger'>, logger: Logger): Promise<() => Promise<void>> {
  const group = createKafkaProjectorGroup({
    ...runnerOptions,
    kafka: bus.kafka,
    topic: bus.topic,
    partitionCount: bus.partitionCount,
    groupId: config.kafka.groupId,
    logger: logger.child({ component: 'projector-group' }),
  });
  await group.start();
  logger.info({ group: config.kafka.groupId, topic: bus.topic }, 'projector joined its consumer group');
  return () => group.stop();
}
