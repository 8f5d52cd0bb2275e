// The relay against a real Kafka broker (KAFKA_BROKERS; .ci/run starts one with scripts/start-kafka.sh)
// and a real PostgreSQL event store. The relay runs in a child process (test/support/relayWorker.ts)
// that is SIGKILLed at random moments while appends go on, then restarted: afterwards the topic must
// hold every event of the log, each stream's events in one partition in stream order once duplicates
// are dropped by position, keyed by stream id and carrying its global position, type and event id.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, ensureEventsTopic } from '../../src/bus/kafka/kafkaClient.js';
import { createKafkaPublisher } from '../../src/bus/kafka/kafkaPublisher.js';
import { createRelay, type Relay } from '../../src/relay/relay.js';
import type { EventStore, RecordedEvent } from '../../src/store/eventStore.js';
import { createPostgresEventStore } from '../../src/store/postgres/postgresEventStore.js';
import { newEvents } from '../contract/contractFixtures.js';
import { readWholeLog } from '../support/history.js';
import { dedupeByPosition, KAFKA_SKIP_REASON, readWholeTopic, testKafka, testKafkaBrokers, uniqueTopic, type SeenMessage } from '../support/kafka.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const brokers = testKafkaBrokers();
if (!brokers) console.warn(KAFKA_SKIP_REASON);

const WORKER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../support/relayWorker.ts');
const STREAMS = 30;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function startRelayProcess(databaseUrl: string, topic: string, batchSize: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, databaseUrl, brokers!.join(','), topic, String(batchSize)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`relay exited (${code}) before it was ready: ${stderr}`)));
  });
  return child;
}

async function kill(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** Appends `count` events in small appends spread over STREAMS streams; returns the last global position. */
async function appendSpread(store: EventStore, prefix: string, count: number, heads: Map<string, number>): Promise<bigint> {
  let last = 0n;
  for (let written = 0; written < count; ) {
    const streamId = `conversation-${prefix}-${Math.floor(Math.random() * STREAMS)}`;
    const size = Math.min(count - written, 1 + Math.floor(Math.random() * 3));
    const result = await store.append(streamId, newEvents(size), heads.get(streamId) ?? -1);
    heads.set(streamId, result.nextExpectedRevision);
    last = result.events.at(-1)!.record.globalPosition;
    written += size;
  }
  return last;
}

async function relayCheckpoint(db: TestDatabase, topic: string): Promise<bigint> {
  const found = await db.pool.query<{ position: string }>('SELECT position FROM relay_checkpoints WHERE name = $1', [`kafka:${topic}`]);
  return BigInt(found.rows[0]?.position ?? '0');
}

async function waitForCheckpoint(db: TestDatabase, topic: string, head: bigint, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await relayCheckpoint(db, topic)) < head) {
    if (Date.now() > deadline) throw new Error(`relay did not reach ${head} within ${timeoutMs} ms (at ${await relayCheckpoint(db, topic)})`);
    await sleep(50);
  }
}

/** Checks the topic against the log: completeness, per-stream order after dedup, keys, headers, payloads. */
function expectTopicMatchesLog(partitions: Map<number, SeenMessage[]>, log: readonly RecordedEvent[]): { duplicates: number } {
  let total = 0;
  const kept: SeenMessage[] = [];
  const partitionOfStream = new Map<string, number>();
  for (const [partition, messages] of partitions) {
    total += messages.length;
    for (const message of dedupeByPosition(messages)) {
      kept.push(message);
      // One stream, one partition: Kafka orders a key's messages only within a partition.
      expect(partitionOfStream.get(message.key) ?? partition, `stream ${message.key} in two partitions`).toBe(partition);
      partitionOfStream.set(message.key, partition);
    }
  }
  // Deduplicated, every event is there exactly once (a reordered message would have been dropped above).
  kept.sort((a, b) => (a.headerPosition < b.headerPosition ? -1 : 1));
  expect(kept.map((m) => m.headerPosition)).toEqual(log.map((e) => e.globalPosition));
  for (const [index, message] of kept.entries()) {
    const event = log[index]!;
    expect(message.event).toEqual(event);
    expect({ key: message.key, type: message.headerType, eventId: message.headerEventId }).toEqual({ key: event.streamId, type: event.type, eventId: event.eventId });
  }
  // Per stream, in partition order: stream positions 0, 1, 2, ... (what a conversation consumer sees).
  const perStream = new Map<string, number[]>();
  for (const messages of partitions.values()) {
    for (const message of dedupeByPosition(messages)) {
      perStream.set(message.key, [...(perStream.get(message.key) ?? []), message.event.streamPosition]);
    }
  }
  for (const [streamId, positions] of perStream) expect(positions, streamId).toEqual(positions.map((_, i) => i));
  return { duplicates: total - kept.length };
}

(brokers ? describe : describe.skip)(brokers ? 'relay into a real Kafka' : KAFKA_SKIP_REASON, () => {
  let db: TestDatabase;
  let store: EventStore;
  let kafka: Kafka;

  beforeAll(async () => {
    db = await createTestDatabase();
    store = createPostgresEventStore({ pool: db.pool, notify: true });
    kafka = testKafka(brokers!);
  });

  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('publishes the whole log in order with its headers, resuming from its checkpoint after SIGKILLs', async () => {
    const topic = uniqueTopic('relay-kill');
    const heads = new Map<string, number>();
    let head = await appendSpread(store, 'k', 600, heads);
    // Appends go on in the background while the relay is killed and restarted.
    let appending = true;
    const background = (async () => {
      for (let i = 0; i < 40 && appending; i++) {
        head = await appendSpread(store, 'k', 40, heads);
        await sleep(20);
      }
    })();
    let relay: ChildProcess | undefined;
    let killsWhileBehind = 0;
    try {
      for (let k = 0; k < 3; k++) {
        relay = await startRelayProcess(db.url, topic, 25);
        await sleep(150 + Math.floor(Math.random() * 300));
        await kill(relay);
        if ((await relayCheckpoint(db, topic)) < head) killsWhileBehind++;
      }
      appending = false;
      await background;
      relay = await startRelayProcess(db.url, topic, 25);
      await waitForCheckpoint(db, topic, head);
    } finally {
      appending = false;
      await background;
      await kill(relay);
    }
    expect(killsWhileBehind, 'kills that interrupted the relay with events still to publish').toBeGreaterThanOrEqual(1);
    const log = await readWholeLog(store);
    expect(log.length).toBeGreaterThanOrEqual(600);
    const { duplicates } = expectTopicMatchesLog(await readWholeTopic(kafka, topic), log);
    console.info(`relay kill test: ${log.length} events, ${duplicates} republished after kills`);
  }, 90_000);

  it('lets one relay publish at a time; a standby takes over when the active one stops', async () => {
    const topic = uniqueTopic('relay-lease');
    const heads = new Map<string, number>();
    const quiet = { info: () => {}, warn: () => {}, error: () => {} };
    await ensureEventsTopic(kafka, topic, 3);
    const relays: Relay[] = [];
    const published: number[] = [0, 0];
    for (const index of [0, 1]) {
      const client = createKafka({ brokers: brokers! }, quiet);
      const publisher = await createKafkaPublisher({ kafka: client, topic });
      const relay = createRelay({ pool: db.pool, store, publisher, name: `kafka:${topic}`, batchSize: 100, pollIntervalMs: 20, standbyRetryMs: 100, onPublished: (events) => (published[index]! += events.length) });
      await relay.start();
      relays.push(relay);
    }
    try {
      let head = await appendSpread(store, 'l', 300, heads);
      await waitForCheckpoint(db, topic, head);
      expect(published.filter((n) => n > 0), 'relays that published').toHaveLength(1);
      const active = published[0]! > 0 ? 0 : 1;
      await relays[active]!.stop();
      head = await appendSpread(store, 'l', 200, heads);
      await waitForCheckpoint(db, topic, head);
      expect(published[1 - active]).toBeGreaterThan(0);
    } finally {
      for (const relay of relays) await relay.stop();
    }
    const log = (await readWholeLog(store)).filter((e) => e.streamId.startsWith('conversation-l-'));
    const partitions = await readWholeTopic(kafka, topic);
    // A clean hand-over republishes nothing: every event exactly once.
    const all = [...partitions.values()].flat().filter((m) => m.key.startsWith('conversation-l-'));
    expect(all).toHaveLength(log.length);
  }, 60_000);
});
