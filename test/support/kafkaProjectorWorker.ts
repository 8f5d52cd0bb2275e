// A consumer-group projector in its own process, for test/distributed/projectorGroup.int.spec.ts:
// joins the group and runs the projections its partitions give it until it is killed. Prints
// "ready" once in the group, then "owns <names>" on every ownership change.
//
//   node --import tsx test/support/kafkaProjectorWorker.ts <databaseUrl> <brokers> <topic> <groupId> <fanoutLimit> <batchSize>
import pg from 'pg';
import { createKafka, ensureEventsTopic } from '../../src/bus/kafka/kafkaClient.js';
import { createKafkaProjectorGroup } from '../../src/projector/kafkaProjectorGroup.js';
import { createPostgresEventStore } from '../../src/store/postgres/postgresEventStore.js';

const [databaseUrl, brokers, topic, groupId, fanoutLimit, batchSize] = process.argv.slice(2);
if (!databaseUrl || !brokers || !topic || !groupId || !fanoutLimit || !batchSize) {
  process.stderr.write('usage: kafkaProjectorWorker.ts <databaseUrl> <brokers> <topic> <groupId> <fanoutLimit> <batchSize>\n');
  process.exit(2);
}
const logger = {
  info: () => {},
  warn: () => {},
  error: (obj: object, msg?: string) => process.stderr.write(`error ${msg ?? ''} ${String((obj as { err?: unknown }).err ?? JSON.stringify(obj))}\n`),
};
const pool = new pg.Pool({ connectionString: databaseUrl, max: 8 });
const store = createPostgresEventStore({ pool, pollIntervalMs: 20 });
const kafka = createKafka({ brokers: brokers.split(',') }, logger);
const partitionCount = await ensureEventsTopic(kafka, topic, 4);
const group = createKafkaProjectorGroup({
  kafka,
  topic,
  partitionCount,
  groupId,
  pool,
  store,
  fanoutLimit: Number(fanoutLimit),
  batchSize: Number(batchSize),
  pollIntervalMs: 20,
  sessionTimeoutMs: 6_000,
  logger,
  onOwnershipChange: (names) => process.stdout.write(`owns ${names.join(',') || '-'}\n`),
});
await group.start();
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void (async () => {
    await group.stop();
    await store.close();
    await pool.end();
    process.exit(0);
  })();
});
