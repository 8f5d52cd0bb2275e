// Sends per second through the command handler into ONE hot conversation (the per-conversation queue
// batches concurrent sends into one append). Run: npx tsx bench/sends.ts [seconds] [concurrency]
import pg from 'pg';
import { createCommandHandler } from '../src/app/commandHandler.js';
import { DEFAULT_LIMITS } from '../src/domain/limits.js';
import { createPostgresEventStore } from '../src/store/postgres/postgresEventStore.js';
import { machine, microsSince, newHistogram, percentilesMs, startBenchPostgres } from './support.js';

const seconds = Number(process.argv[2] ?? 5);
const concurrency = Number(process.argv[3] ?? 64);

const pgServer = await startBenchPostgres();
const pool = new pg.Pool({ connectionString: pgServer.connectionString, max: 16 });
const store = createPostgresEventStore({ pool });
const handler = createCommandHandler({ store, limits: DEFAULT_LIMITS });
const members = Array.from({ length: 50 }, (_, i) => `u${i}`);
const { conversationId } = await handler.createGroup({ actorId: 'u0' }, { name: 'hot', memberIds: members });

const latency = newHistogram();
let sent = 0;
const deadline = Date.now() + seconds * 1000;
const started = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: concurrency }, async (_, worker) => {
    for (let i = 0; Date.now() < deadline; i++) {
      const t = process.hrtime.bigint();
      await handler.sendMessage({ actorId: members[worker % members.length]! }, conversationId, {
        clientMsgId: `w${worker}-${i}`,
        kind: 'text',
        body: { text: `message ${i} from worker ${worker}` },
      });
      latency.recordValue(microsSince(t));
      sent++;
    }
  }),
);
const elapsedS = microsSince(started) / 1e6;
const events = await store.readStream(`conversation-${conversationId}`, { direction: 'backwards', maxCount: 1 });
const lastSeq = (events[0]?.streamPosition ?? -1) + 1;
console.log(
  JSON.stringify(
    {
      scenario: 'sends into one hot conversation (command handler, PostgreSQL store)',
      concurrency,
      seconds: Math.round(elapsedS * 10) / 10,
      sends: sent,
      sendsPerSecond: Math.round(sent / elapsedS),
      gapless: lastSeq === sent + 1,
      latencyMs: percentilesMs(latency),
      machine: machine(),
    },
    null,
    2,
  ),
);
await store.close();
await pool.end();
await pgServer.stop();
