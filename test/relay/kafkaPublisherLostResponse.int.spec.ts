// The relay's Kafka publisher when a produce request reaches the broker but its answer never comes back
// (the connection drops between the append and the response, as when a broker stops). Found by the CI
// run of kafkaRestart.faults.spec.ts: kafkajs rolls its idempotent sequence numbers back after any failed
// produce request, even one the broker appended, so the relay's next page — read again from its
// checkpoint, and longer by then — went out with sequence numbers the broker had already used and was
// refused with OUT_OF_ORDER_SEQUENCE_NUMBER, on every retry, for good.
//
// The fault is injected in the client's own sockets (kafkajs's socketFactory) against the real broker:
// while armed, each produce request is written to the broker and its connection is then cut before
// the response is read. The broker really appends the batch; the client really sees a lost answer.
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type ISocketFactory } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureEventsTopic } from '../../src/bus/kafka/kafkaClient.js';
import { createKafkaPublisher } from '../../src/bus/kafka/kafkaPublisher.js';
import type { EventPublisher } from '../../src/bus/eventBus.js';
import type { RecordedEvent } from '../../src/store/eventStore.js';
import { dedupeByPosition, KAFKA_SKIP_REASON, readWholeTopic, testKafka, testKafkaBrokers, uniqueTopic } from '../support/kafka.js';

const brokers = testKafkaBrokers();
if (!brokers) console.warn(KAFKA_SKIP_REASON);

/** Kafka's ApiKey of Produce; a request is [int32 size][int16 apiKey]... */
const PRODUCE_API_KEY = 0;
const isProduceRequest = (chunk: unknown) => Buffer.isBuffer(chunk) && chunk.length >= 6 && chunk.readInt16BE(4) === PRODUCE_API_KEY;

/** Sockets to the real broker that, while `losing`, deliver produce requests and lose their answers. */
function lossySockets() {
  const state = { losing: false, lost: 0 };
  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = net.connect({ host, port }, onConnect);
    const write = socket.write.bind(socket) as (chunk: unknown, encoding?: BufferEncoding) => boolean;
    socket.write = ((chunk: unknown, encoding?: BufferEncoding) => {
      const written = write(chunk, encoding);
      if (state.losing && isProduceRequest(chunk)) {
        state.lost += 1;
        socket.pause(); // the broker's answer stays unread...
        setTimeout(() => socket.destroy(new Error('test: connection cut before the produce response')), 300); // ...and is lost
      }
      return written;
    }) as typeof socket.write;
    return socket;
  };
  return { state, socketFactory };
}

/** `count` events of one stream (so one partition), from global position `first`. */
function page(streamId: string, first: number, count: number): RecordedEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    eventId: randomUUID(),
    type: 'MessageSent',
    streamId,
    streamPosition: first + i - 1,
    globalPosition: BigInt(first + i),
    recordedAt: new Date(),
    data: { text: `event ${first + i}` },
    metadata: { actorId: 'relay-test', schemaVersion: 1 },
  }));
}

(brokers ? describe : describe.skip)(brokers ? 'the Kafka publisher after a lost produce response' : KAFKA_SKIP_REASON, () => {
  const topic = uniqueTopic('lost-response');
  const streamId = `conversation-${randomUUID()}`;
  const lossy = lossySockets();
  let publisher: EventPublisher;

  beforeAll(async () => {
    await ensureEventsTopic(testKafka(brokers!), topic, 2);
    // Few retries, so a send gives up within seconds as the relay's does after a longer outage.
    const kafka = new Kafka({ clientId: 'missive-test-lossy', brokers: brokers!, logLevel: logLevel.NOTHING, socketFactory: lossy.socketFactory, retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 } });
    publisher = await createKafkaPublisher({ kafka, topic });
  });
  afterAll(async () => {
    await publisher?.close();
  });

  it('publishes the next, longer page (re-read from the checkpoint) instead of failing for good', async () => {
    await publisher.publish(page(streamId, 1, 5));

    // Positions 6..15: appended by the broker, every answer lost; the publish fails as the relay sees it.
    lossy.state.losing = true;
    await expect(publisher.publish(page(streamId, 6, 10))).rejects.toThrow();
    lossy.state.losing = false;
    expect(lossy.state.lost, 'produce requests whose answers were lost').toBeGreaterThan(0);

    // The relay re-reads from its checkpoint (5): by now the page is longer. It must be acknowledged
    // (a retry or two is what the relay would do; an unusable producer fails every one).
    const retried = page(streamId, 6, 25);
    const errors: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await publisher.publish(retried);
        break;
      } catch (error) {
        errors.push((error as Error).message);
      }
    }
    expect(errors, 'publishes of the re-read page that failed').toEqual([]);
    await publisher.publish(page(streamId, 31, 5));

    // Every event is on the topic, in order once the at-least-once copies are dropped by position.
    const partitions = await readWholeTopic(testKafka(brokers!), topic, 20_000);
    const kept = [...partitions.values()].flatMap((messages) => dedupeByPosition(messages));
    expect(kept.map((m) => Number(m.headerPosition))).toEqual(Array.from({ length: 35 }, (_, i) => i + 1));
  }, 60_000);
});
