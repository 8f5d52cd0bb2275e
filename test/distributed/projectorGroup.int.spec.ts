// Projector workers as a Kafka consumer group, against a real broker (KAFKA_BROKERS) and PostgreSQL.
// Two workers in child processes split the projections by their partitions; one is SIGKILLed while
// it has work pending, the survivor takes its projections over when the broker notices, and a third
// joins later and takes some back. Meanwhile a generated history is appended and relayed to Kafka.
// Afterwards nothing may be lost or applied twice: inboxSeq consecutive per user, every projection
// equal to a rebuild from the log, the views equal to the oracle and every sync walk complete.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, ensureEventsTopic } from '../../src/bus/kafka/kafkaClient.js';
import { createKafkaPublisher } from '../../src/bus/kafka/kafkaPublisher.js';
import { ALL_PROJECTIONS, ensureProjectionSchemas, readCheckpoints } from '../../src/projections/index.js';
import { createRelay, type Relay } from '../../src/relay/relay.js';
import type { EventStore } from '../../src/store/eventStore.js';
import { createPostgresEventStore } from '../../src/store/postgres/postgresEventStore.js';
import { historyOf, scriptArbitrary } from '../oracle/generators.js';
import { appendHistory, type HistoryAppend } from '../support/history.js';
import { KAFKA_SKIP_REASON, testKafkaBrokers, uniqueTopic } from '../support/kafka.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startSyncWalker } from '../support/projectionViews.js';
import { expectConvergedWithLog } from '../support/convergence.js';

const brokers = testKafkaBrokers();
if (!brokers) console.warn(KAFKA_SKIP_REASON);

const FANOUT_LIMIT = 3;
/** Small batches: many commits per second, so the kill lands among them. */
const BATCH_SIZE = 3;
const WORKER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../support/kafkaProjectorWorker.ts');
const NAMES = ALL_PROJECTIONS.map((p) => p.name);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Worker {
  child: ChildProcess;
  /** Every ownership it reported, in order. */
  owned: string[][];
  stderr: () => string;
}

async function startWorker(databaseUrl: string, topic: string, groupId: string): Promise<Worker> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, databaseUrl, brokers!.join(','), topic, groupId, String(FANOUT_LIMIT), String(BATCH_SIZE)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const worker: Worker = { child, owned: [], stderr: () => stderr };
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let ready = false;
  child.stdout!.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (line === 'ready') ready = true;
      if (line.startsWith('owns ')) worker.owned.push(line.slice(5) === '-' ? [] : line.slice(5).split(','));
    }
  });
  const deadline = Date.now() + 30_000;
  while (!ready) {
    if (child.exitCode !== null) throw new Error(`projector worker exited (${child.exitCode}) before it was ready: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`projector worker not ready within 30 s: ${stderr}`);
    await sleep(20);
  }
  return worker;
}

const current = (worker: Worker): string[] => worker.owned.at(-1) ?? [];

async function kill(worker: Worker | undefined): Promise<void> {
  const child = worker?.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

(brokers ? describe : describe.skip)(brokers ? 'projector workers in a Kafka consumer group' : KAFKA_SKIP_REASON, () => {
  let db: TestDatabase;
  let store: EventStore;
  let relay: Relay | undefined;
  const workers: Worker[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    store = createPostgresEventStore({ pool: db.pool, notify: true });
  });

  afterAll(async () => {
    for (const worker of workers) await kill(worker);
    await relay?.stop();
    await store?.close();
    await db?.drop();
  });

  it('moves projections with partitions; a SIGKILLed worker loses nothing and nothing is applied twice', async () => {
    const [script] = fc.sample(scriptArbitrary({ minSteps: 220, maxSteps: 260 }), { numRuns: 1, seed: 20261123 });
    const { users, conversationIds, appends } = historyOf(script!);
    await ensureProjectionSchemas(db.pool);
    const walkers = await Promise.all(users.map((u) => startSyncWalker(db.pool, u)));

    const topic = uniqueTopic('projectors');
    const groupId = `projectors-${topic}`;
    const quiet = { info: () => {}, warn: () => {}, error: () => {} };
    const kafka = createKafka({ brokers: brokers! }, quiet);
    await ensureEventsTopic(kafka, topic, 4);
    relay = createRelay({ pool: db.pool, store, publisher: await createKafkaPublisher({ kafka, topic }), name: `kafka:${topic}`, pollIntervalMs: 20 });
    await relay.start();

    const heads = new Map<string, number>();
    let head = 0n;
    const appendSome = async (some: HistoryAppend[]) => {
      const last = await appendHistory(store, some, heads);
      if (last > head) head = last;
    };
    const third = Math.ceil(appends.length / 3);

    const first = await startWorker(db.url, topic, groupId);
    workers.push(first);
    const second = await startWorker(db.url, topic, groupId);
    workers.push(second);
    await waitUntil(() => current(first).length > 0 && current(second).length > 0 && [...current(first), ...current(second)].sort().join() === [...NAMES].sort().join(), 'two workers splitting the projections');
    const ownedByFirst = current(first);

    // Kill the first worker while events are still flowing to it: the second half of this stretch is
    // being appended (a sleep after the last append let a fast worker finish first and the kill prove
    // nothing).
    await appendSome(appends.slice(0, Math.ceil(third / 2)));
    const flowing = appendSome(appends.slice(Math.ceil(third / 2), third));
    const before = await readCheckpoints(db.pool, ownedByFirst);
    await kill(first);
    await flowing;
    expect(ownedByFirst.some((name) => (before.get(name)?.position ?? 0n) < head), 'the killed worker had events left to apply').toBe(true);

    // The survivor takes the killed worker's projections once the broker notices (session timeout).
    const appending = appendSome(appends.slice(third, 2 * third));
    await waitUntil(() => current(second).length === NAMES.length, 'the survivor owning every projection');
    await appending;

    // A new worker joins: partitions, and projections with them, move to it.
    const third_ = await startWorker(db.url, topic, groupId);
    workers.push(third_);
    await appendSome(appends.slice(2 * third));
    await waitUntil(() => current(third_).length > 0 && current(second).length < NAMES.length, 'the newcomer taking projections over');

    await waitUntil(async () => {
      const checkpoints = await readCheckpoints(db.pool, NAMES);
      return NAMES.every((name) => (checkpoints.get(name)?.position ?? 0n) >= head);
    }, 'every projection caught up', 45_000);
    for (const worker of workers) await kill(worker);
    expect(second.stderr() + third_.stderr()).not.toMatch(/error/);

    await expectConvergedWithLog({ pool: db.pool, store, fanoutLimit: FANOUT_LIMIT, projections: NAMES, users, conversationIds, walkers });
  }, 150_000);
});
