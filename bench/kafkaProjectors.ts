// Sends per second with projector workers in a Kafka consumer group: a command handler drives sends
// into 200 direct conversations and 20 groups for a fixed time while a relay publishes the log to
// Kafka and N projector worker processes (test/support/kafkaProjectorWorker.ts) split the projections.
// Reports acknowledged sends/s, how far the slowest projection lagged (sampled), and how long the
// projections took to catch up once the sends stopped. Needs KAFKA_BROKERS (scripts/start-kafka.sh).
//   KAFKA_BROKERS=127.0.0.1:19092 node --import tsx bench/kafkaProjectors.ts [seconds=15] [workers=1] [concurrency=32]
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createCommandHandler } from '../src/app/commandHandler.js';
import { createKafka, ensureEventsTopic } from '../src/bus/kafka/kafkaClient.js';
import { createKafkaPublisher } from '../src/bus/kafka/kafkaPublisher.js';
import { DEFAULT_LIMITS } from '../src/domain/limits.js';
import { ALL_PROJECTIONS, ensureProjectionSchemas } from '../src/projections/index.js';
import { createRelay } from '../src/relay/relay.js';
import { createPostgresEventStore } from '../src/store/postgres/postgresEventStore.js';
import { machine, microsSince, newHistogram, percentilesMs, startBenchPostgres } from './support.js';

const brokers = process.env['KAFKA_BROKERS'];
if (!brokers) {
  process.stderr.write('KAFKA_BROKERS is not set: start a broker with scripts/start-kafka.sh\n');
  process.exit(2);
}
const seconds = Number(process.argv[2] ?? 15);
const workerCount = Number(process.argv[3] ?? 1);
const concurrency = Number(process.argv[4] ?? 32);
const WORKER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test/support/kafkaProjectorWorker.ts');
const quiet = { info: () => {}, warn: () => {}, error: (o: object, m?: string) => process.stderr.write(`${m} ${JSON.stringify(o)}\n`) };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const pgServer = await startBenchPostgres();
const pool = new pg.Pool({ connectionString: pgServer.connectionString, max: 16 });
pool.on('error', () => {});
const store = createPostgresEventStore({ pool });
await ensureProjectionSchemas(pool);
const handler = createCommandHandler({ store, limits: DEFAULT_LIMITS });
const users = Array.from({ length: 100 }, (_, i) => `u${i}`);
const conversations: Array<{ id: string; members: string[] }> = [];
for (let i = 0; i < 200; i++) {
  const [a, b] = [users[i % 100]!, users[(i * 7 + 1) % 100]!];
  if (a === b) continue;
  const { conversationId } = await handler.openDirect({ actorId: a }, b);
  if (!conversations.some((c) => c.id === conversationId)) conversations.push({ id: conversationId, members: [a, b] });
}
for (let g = 0; g < 20; g++) {
  const members = Array.from({ length: 10 }, (_, i) => users[(g * 5 + i * 3) % 100]!).filter((u, i, all) => all.indexOf(u) === i);
  const { conversationId } = await handler.createGroup({ actorId: members[0]! }, { name: `g${g}`, memberIds: members });
  conversations.push({ id: conversationId, members });
}

const topic = `bench.projectors.${randomUUID().slice(0, 8)}`;
const kafka = createKafka({ brokers: brokers.split(',') }, quiet);
await ensureEventsTopic(kafka, topic, 12);
const relay = createRelay({ pool, store, publisher: await createKafkaPublisher({ kafka, topic }), name: `kafka:${topic}`, logger: quiet });
await relay.start();

const owned = new Map<number, string[]>();
const workers: ChildProcess[] = [];
for (let w = 0; w < workerCount; w++) {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, pgServer.connectionString, brokers, topic, `bench-${topic}`, '500', '500'], { stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout!.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.startsWith('owns ')) owned.set(w, line.slice(5) === '-' ? [] : line.slice(5).split(','));
  });
  workers.push(child);
}
const names = ALL_PROJECTIONS.map((p) => p.name);
for (let i = 0; ; i++) {
  const all = [...owned.values()].flat();
  if (all.length === names.length && owned.size === workerCount && [...owned.values()].every((o) => o.length > 0)) break;
  if (i > 600) throw new Error(`workers did not split the projections: ${JSON.stringify([...owned])}`);
  await sleep(100);
}

const head = async () => BigInt((await pool.query<{ max: string }>('SELECT coalesce(max(global_position), 0)::text AS max FROM events')).rows[0]!.max);
const slowest = async () => BigInt((await pool.query<{ min: string }>('SELECT min(position)::text AS min FROM projection_checkpoints')).rows[0]!.min);
// Wait for the set-up events to be projected, so the run starts from a caught-up state.
const setupHead = await head();
while ((await slowest()) < setupHead) await sleep(100);

const latency = newHistogram();
let sent = 0;
let running = true;
const lagSamples: number[] = [];
const sampler = (async () => {
  while (running) {
    lagSamples.push(Number((await head()) - (await slowest())));
    await sleep(250);
  }
})();
const started = process.hrtime.bigint();
const deadline = Date.now() + seconds * 1000;
await Promise.all(
  Array.from({ length: concurrency }, async (_, worker) => {
    for (let i = 0; Date.now() < deadline; i++) {
      const conversation = conversations[Math.floor(Math.random() * conversations.length)]!;
      const sender = conversation.members[i % conversation.members.length]!;
      const t = process.hrtime.bigint();
      await handler.sendMessage({ actorId: sender }, conversation.id, { clientMsgId: `w${worker}-${i}`, kind: 'text', body: { text: `message ${i}` } });
      latency.recordValue(microsSince(t));
      sent++;
    }
  }),
);
const sendSeconds = microsSince(started) / 1e6;
running = false;
await sampler;
const endHead = await head();
const drainStarted = Date.now();
while ((await slowest()) < endHead) {
  if (Date.now() - drainStarted > 120_000) throw new Error('projections did not catch up within 120 s');
  await sleep(50);
}
const drainSeconds = (Date.now() - drainStarted) / 1000;
lagSamples.sort((a, b) => a - b);
console.log(
  JSON.stringify(
    {
      scenario: 'sends with projector workers in a Kafka consumer group (relay + PostgreSQL store)',
      workers: workerCount,
      ownership: Object.fromEntries(owned),
      concurrency,
      seconds: Math.round(sendSeconds * 10) / 10,
      sends: sent,
      sendsPerSecond: Math.round(sent / sendSeconds),
      sendLatencyMs: percentilesMs(latency),
      lagEventsSampled: { p50: lagSamples[Math.floor(lagSamples.length * 0.5)], p99: lagSamples[Math.floor(lagSamples.length * 0.99)], max: lagSamples.at(-1) },
      catchUpAfterStopSeconds: drainSeconds,
      projectedPerSecond: Math.round(sent / (sendSeconds + drainSeconds)),
      machine: machine(),
    },
    null,
    2,
  ),
);
for (const child of workers) child.kill('SIGKILL');
await relay.stop();
await store.close();
await pool.end();
await pgServer.stop();
process.exit(0);
