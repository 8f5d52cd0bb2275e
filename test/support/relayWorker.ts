// A relay in its own process, for test/relay/kafkaRelay.int.spec.ts: publishes the database's event
// log to the given topic until it is killed (SIGKILL: nothing here cleans up, which is the point).
//
//   node --import tsx test/support/relayWorker.ts <databaseUrl> <brokers> <topic> <batchSize>
import pg from 'pg';
import { createKafka, ensureEventsTopic } from '../../src/bus/kafka/kafkaClient.js';
import { createKafkaPublisher } from '../../src/bus/kafka/kafkaPublisher.js';
import { createRelay } from '../../src/relay/relay.js';
import { createPostgresEventStore } from '../../src/store/postgres/postgresEventStore.js';

const [databaseUrl, brokers, topic, batchSize] = process.argv.slice(2);
if (!databaseUrl || !brokers || !topic || !batchSize) {
  process.stderr.write('usage: relayWorker.ts <databaseUrl> <brokers> <topic> <batchSize>\n');
  process.exit(2);
}
const logger = {
  info: () => {},
  warn: () => {},
  error: (obj: object, msg?: string) => process.stderr.write(`error ${msg ?? ''} ${String((obj as { err?: unknown }).err ?? JSON.stringify(obj))}\n`),
};
const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
const store = createPostgresEventStore({ pool, pollIntervalMs: 20 });
const kafka = createKafka({ brokers: brokers.split(',') }, logger);
await ensureEventsTopic(kafka, topic, 4);
const publisher = await createKafkaPublisher({ kafka, topic });
const relay = createRelay({ pool, store, publisher, name: `kafka:${topic}`, batchSize: Number(batchSize), pollIntervalMs: 20, logger });
await relay.start();
process.stdout.write('ready\n');
