// Append throughput of the PostgreSQL event store on a throw-away embedded PostgreSQL:
//   npx tsx bench/appends.ts [secondsPerScenario]
// Three scenarios, ~5 s each: one writer; 16 writers on 16 streams; 16 writers racing on ONE stream
// with exact expected revisions (a conflict re-reads the head and retries). Prints a JSON summary.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { WrongExpectedRevisionError, type EventStore, type NewEvent } from '../src/store/eventStore.js';
import { createPostgresEventStore } from '../src/store/postgres/postgresEventStore.js';
import { machine, microsSince, newHistogram, percentilesMs, startBenchPostgres } from './support.js';

const secondsPerScenario = Number(process.argv[2] ?? 5);

const messageEvent = (): NewEvent => ({
  eventId: randomUUID(),
  type: 'MessageSent',
  data: { messageId: randomUUID(), senderId: 'bench-user', clientMsgId: randomUUID(), kind: 'text', body: { text: 'hello, benchmark' }, sentAt: new Date().toISOString() },
  metadata: { actorId: 'bench-user', deviceId: 'bench-device', schemaVersion: 1 },
});

interface Writer {
  streamId: string;
  /** The writer's belief of the stream's last position, or undefined to append with 'any'. */
  expected?: number;
}

async function runScenario(store: EventStore, name: string, writers: Writer[]) {
  const latency = newHistogram();
  let appends = 0;
  let conflicts = 0;
  const deadline = Date.now() + secondsPerScenario * 1000;
  const started = process.hrtime.bigint();
  await Promise.all(
    writers.map(async (writer) => {
      while (Date.now() < deadline) {
        const attemptStarted = process.hrtime.bigint();
        try {
          const result = await store.append(writer.streamId, [messageEvent()], writer.expected ?? 'any');
          latency.recordValue(Math.max(1, microsSince(attemptStarted)));
          appends += 1;
          if (writer.expected !== undefined) writer.expected = result.nextExpectedRevision;
        } catch (error) {
          if (!(error instanceof WrongExpectedRevisionError)) throw error;
          conflicts += 1;
          writer.expected = error.actual;
        }
      }
    }),
  );
  const seconds = microsSince(started) / 1e6;
  return {
    scenario: name,
    writers: writers.length,
    seconds: Math.round(seconds * 100) / 100,
    appends,
    appendsPerSecond: Math.round(appends / seconds),
    // One event per append in every scenario.
    eventsPerSecond: Math.round(appends / seconds),
    conflicts,
    latencyOf: 'each successful append call (a retried append counts its last attempt only)',
    latencyMs: percentilesMs(latency),
  };
}

async function main(): Promise<void> {
  const postgres = await startBenchPostgres();
  const pool = new pg.Pool({ connectionString: postgres.connectionString, max: 20 });
  pool.on('error', () => {});
  const store = createPostgresEventStore({ pool });
  try {
    const oneStream = `conversation-${randomUUID()}`;
    const results = [
      await runScenario(store, '1 writer, single-event appends', [{ streamId: `conversation-${randomUUID()}` }]),
      await runScenario(store, '16 writers, 16 streams', Array.from({ length: 16 }, () => ({ streamId: `conversation-${randomUUID()}` }))),
      await runScenario(store, '16 writers, one stream, exact revision', Array.from({ length: 16 }, () => ({ streamId: oneStream, expected: -1 }))),
    ];
    const stored = await store.readStream(oneStream, { direction: 'backwards', maxCount: 1 });
    const summary = {
      benchmark: 'appends',
      store: 'postgres (embedded, notify on)',
      machine: machine(),
      oneStreamLastPosition: stored[0]?.streamPosition ?? -1,
      results,
    };
    console.log(JSON.stringify(summary, null, 2));
  } finally {
    await store.close();
    await pool.end();
    await postgres.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
