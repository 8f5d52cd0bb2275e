// The relay following EventStoreDB's $all (through the EventStore port's EventStoreDB adapter) into a
// real Kafka. Needs both EVENTSTORE_URL and KAFKA_BROKERS; no EventStoreDB server can be installed on
// this machine, so here it is skipped and says so (the adapter itself is unverified: docs/eventstoredb.md).
import { describe, expect, it } from 'vitest';
import { createKafka, ensureEventsTopic } from '../../src/bus/kafka/kafkaClient.js';
import { createKafkaPublisher } from '../../src/bus/kafka/kafkaPublisher.js';
import { createRelay } from '../../src/relay/relay.js';
import { createEventStoreDbEventStore } from '../../src/store/eventstoredb/esdbEventStore.js';
import type { RecordedEvent } from '../../src/store/eventStore.js';
import { newEvents, uniquePrefix } from '../contract/contractFixtures.js';
import { dedupeByPosition, KAFKA_SKIP_REASON, readWholeTopic, testKafka, testKafkaBrokers, uniqueTopic } from '../support/kafka.js';
import { createTestDatabase } from '../support/postgres.js';

const eventStoreUrl = process.env['EVENTSTORE_URL'];
const brokers = testKafkaBrokers();
const SKIP_REASON = !eventStoreUrl
  ? 'SKIPPED: EVENTSTORE_URL is not set (no EventStoreDB server can be installed on this machine; the adapter is unverified)'
  : KAFKA_SKIP_REASON;
if (!eventStoreUrl || !brokers) console.warn(SKIP_REASON);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

(eventStoreUrl && brokers ? describe : describe.skip)(eventStoreUrl && brokers ? 'relay from EventStoreDB $all into Kafka' : SKIP_REASON, () => {
  it('publishes the events appended after its checkpoint, in $all order', async () => {
    const db = await createTestDatabase();
    const store = createEventStoreDbEventStore({ connectionString: eventStoreUrl! });
    const topic = uniqueTopic('relay-esdb');
    const kafka = createKafka({ brokers: brokers! }, { info: () => {}, warn: () => {}, error: () => {} });
    try {
      await ensureEventsTopic(kafka, topic, 3);
      // Start at the server's current end: a shared server may hold a long history of other tests.
      const start = await store.headPosition();
      await db.pool.query('INSERT INTO relay_checkpoints (name, position) VALUES ($1, $2)', [`kafka:${topic}`, start.toString()]);
      const prefix = uniquePrefix();
      const appended: RecordedEvent[] = [];
      for (let i = 0; i < 10; i++) appended.push(...(await store.append(`${prefix}-${i % 3}`, newEvents(5), 'any')).events.map((e) => e.record));
      const relay = createRelay({ pool: db.pool, store, publisher: await createKafkaPublisher({ kafka, topic }), name: `kafka:${topic}`, pollIntervalMs: 20 });
      await relay.start();
      const last = appended.at(-1)!.globalPosition;
      const deadline = Date.now() + 20_000;
      for (;;) {
        const found = await db.pool.query<{ position: string }>('SELECT position FROM relay_checkpoints WHERE name = $1', [`kafka:${topic}`]);
        if (BigInt(found.rows[0]!.position) >= last) break;
        if (Date.now() > deadline) throw new Error('relay did not reach the last appended event');
        await sleep(50);
      }
      await relay.stop();
      const ours = [...(await readWholeTopic(testKafka(brokers!), topic)).values()]
        .flatMap((messages) => dedupeByPosition(messages))
        .filter((m) => m.key.startsWith(prefix))
        .sort((a, b) => (a.headerPosition < b.headerPosition ? -1 : 1));
      expect(ours.map((m) => m.event)).toEqual(appended);
    } finally {
      await store.close();
      await db.drop();
    }
  }, 60_000);
});
