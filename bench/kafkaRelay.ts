// Relay throughput into Kafka: builds a log of N events in a throw-away PostgreSQL, then times the
// relay publishing all of it to a fresh topic (idempotent producer, acks=all, one send per page) from
// checkpoint 0 to the head. For comparison it also runs the relay with one event per send for a few
// seconds (what awaiting one send per event gives). Needs KAFKA_BROKERS (scripts/start-kafka.sh).
//   KAFKA_BROKERS=127.0.0.1:19092 node --import tsx bench/kafkaRelay.ts [events=100000] [batchSize=2000] [partitions=12]
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createKafka, ensureEventsTopic } from '../src/bus/kafka/kafkaClient.js';
import { createKafkaPublisher } from '../src/bus/kafka/kafkaPublisher.js';
import { createRelay } from '../src/relay/relay.js';
import type { NewEvent } from '../src/store/eventStore.js';
import { createPostgresEventStore } from '../src/store/postgres/postgresEventStore.js';
import { machine, startBenchPostgres } from './support.js';

const brokers = process.env['KAFKA_BROKERS']?.split(',');
if (!brokers) {
  process.stderr.write('KAFKA_BROKERS is not set: start a broker with scripts/start-kafka.sh\n');
  process.exit(2);
}
const total = Number(process.argv[2] ?? 100_000);
const batchSize = Number(process.argv[3] ?? 2_000);
const partitions = Number(process.argv[4] ?? 12);
const quiet = { info: () => {}, warn: () => {}, error: (o: object, m?: string) => process.stderr.write(`${m} ${JSON.stringify(o)}\n`) };

const pgServer = await startBenchPostgres();
const pool = new pg.Pool({ connectionString: pgServer.connectionString, max: 8 });
pool.on('error', () => {});
const store = createPostgresEventStore({ pool });

// A MessageSent-sized event (~350 bytes as JSON) in 500 conversations, 50 events per append.
const event = (): NewEvent => ({
  eventId: randomUUID(),
  type: 'MessageSent',
  data: { messageId: randomUUID(), senderId: 'u1', clientMsgId: randomUUID(), kind: 'text', body: { text: 'a message of an ordinary length, about sixty characters' }, sentAt: new Date().toISOString() },
  metadata: { actorId: 'u1', deviceId: 'd1', correlationId: randomUUID(), schemaVersion: 1 },
});
const buildStarted = Date.now();
for (let written = 0, i = 0; written < total; i++) {
  const n = Math.min(50, total - written);
  await store.append(`conversation-bench-${i % 500}`, Array.from({ length: n }, event), 'any');
  written += n;
}
process.stderr.write(`log of ${total} events built in ${((Date.now() - buildStarted) / 1000).toFixed(1)} s\n`);
const head = BigInt((await pool.query<{ max: string }>('SELECT max(global_position)::text AS max FROM events')).rows[0]!.max);

const kafka = createKafka({ brokers }, quiet);

async function timeRelay(name: string, size: number, limitMs: number): Promise<{ events: number; seconds: number; publishSeconds: number }> {
  const topic = `bench.relay.${randomUUID().slice(0, 8)}`;
  await ensureEventsTopic(kafka, topic, partitions);
  const kafkaPublisher = await createKafkaPublisher({ kafka, topic });
  // Time spent waiting for Kafka's acknowledgements (the rest is reading pages and checkpointing).
  let publishMs = 0;
  const publisher = {
    async publish(events: Parameters<typeof kafkaPublisher.publish>[0]) {
      const t = Date.now();
      await kafkaPublisher.publish(events);
      publishMs += Date.now() - t;
    },
    close: () => kafkaPublisher.close(),
  };
  let published = 0;
  let reachedHead: () => void;
  const done = new Promise<void>((resolve) => (reachedHead = resolve));
  const relay = createRelay({
    pool, store, publisher, name: `${name}:${topic}`, batchSize: size, pollIntervalMs: 50, logger: quiet,
    onPublished: (events) => {
      published += events.length;
      if (events.at(-1)!.globalPosition >= head) reachedHead();
    },
  });
  const started = Date.now();
  await relay.start();
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, limitMs))]);
  const seconds = (Date.now() - started) / 1000;
  const events = published;
  await relay.stop();
  await publisher.close();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
  return { events, seconds, publishSeconds: Math.round(publishMs / 100) / 10 };
}

const batched = await timeRelay('batched', batchSize, 50_000);
const single = await timeRelay('single', 1, 5_000);
console.log(
  JSON.stringify(
    {
      scenario: 'relay: PostgreSQL log -> Kafka topic (idempotent producer, acks=all)',
      logEvents: total,
      partitions,
      batched: { batchSize, events: batched.events, seconds: Math.round(batched.seconds * 10) / 10, eventsPerSecond: Math.round(batched.events / batched.seconds), secondsAwaitingKafka: batched.publishSeconds, complete: batched.events === total },
      oneEventPerSend: { events: single.events, seconds: Math.round(single.seconds * 10) / 10, eventsPerSecond: Math.round(single.events / single.seconds) },
      machine: machine(),
    },
    null,
    2,
  ),
);
await store.close();
await pool.end();
await pgServer.stop();
