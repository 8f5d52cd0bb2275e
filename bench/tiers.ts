// History tiers: a 50-item history page from hot (Redis), warm (PostgreSQL) and cold (the event log),
// Redis memory per conversation in the hot tier, and the hot projection's throughput.
//   node --import tsx bench/tiers.ts [conversations=200] [itemsPerConversation=400] [readsPerTier=2000]
// Runs on a throw-away embedded PostgreSQL and its own redis-server (loopback, no persistence). Each
// conversation: 150 items in June 2026 (partition dropped by retention → cold), the rest recent. The hot
// tier keeps the newest 200, so `before=<hot lo>` pages are warm and pages below 150 are cold. Reads go
// through the tiered reader (src/tiers/tieredHistory.ts), not HTTP. Prints a JSON summary.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { conversationStreamId } from '../src/domain/streams.js';
import { createProjectionRunner, ensureProjectionSchemas, membershipProjection, timelineProjection } from '../src/projections/index.js';
import type { NewEvent } from '../src/store/eventStore.js';
import { createPostgresEventStore } from '../src/store/postgres/postgresEventStore.js';
import { createHotProjection } from '../src/tiers/hotProjection.js';
import { createMemoryHotStore } from '../src/tiers/memoryHotStore.js';
import { createRedisHotStore } from '../src/tiers/redisHotStore.js';
import { createHistoryReader, type HistoryReader, type Tier } from '../src/tiers/tieredHistory.js';
import { runTierJob } from '../src/tiers/tierJob.js';
import type { HistoryQuery } from '../src/tiers/historyRange.js';
import { startOwnRedis } from '../test/support/ownRedis.js';
import { machine, microsSince, newHistogram, percentilesMs, startBenchPostgres } from './support.js';
import pg from 'pg';

const conversations = Number(process.argv[2] ?? 200);
const itemsPerConversation = Number(process.argv[3] ?? 400);
const readsPerTier = Number(process.argv[4] ?? 2000);
const OLD_ITEMS = 150;
const HOT_ITEMS = 200;
const PAGE = 50;
const DAY = 24 * 3600 * 1000;

const meta = (actorId: string) => ({ actorId, schemaVersion: 1 });

/** One conversation's events: opened, then messages (every 25th item an edit of the message before it). */
function conversationEvents(c: string): NewEvent[] {
  const events: NewEvent[] = [];
  const oldStart = Date.parse('2026-06-10T10:00:00.000Z');
  const recentStart = Date.now() - 2 * DAY;
  const at = (seq: number) => new Date(seq <= OLD_ITEMS ? oldStart + seq * 60_000 : recentStart + seq * 60_000).toISOString();
  events.push({ eventId: randomUUID(), type: 'DirectConversationOpened', data: { conversationId: c, memberIds: ['ann', 'bob'], openedBy: 'ann', openedAt: at(1) }, metadata: meta('ann') });
  let lastMessage = { seq: 0, messageId: '' };
  for (let seq = 2; seq <= itemsPerConversation; seq++) {
    if (seq % 25 === 0 && lastMessage.seq > 0) {
      events.push({ eventId: randomUUID(), type: 'MessageEdited', data: { messageId: lastMessage.messageId, seq: lastMessage.seq, body: { text: `edited ${lastMessage.seq}` }, editedBy: 'ann', editedAt: at(seq) }, metadata: meta('ann') });
      continue;
    }
    const messageId = randomUUID();
    const sender = seq % 2 ? 'ann' : 'bob';
    events.push({ eventId: randomUUID(), type: 'MessageSent', data: { messageId, senderId: sender, clientMsgId: randomUUID(), kind: 'text', body: { text: `message number ${seq} of conversation, a typical short chat line` }, sentAt: at(seq) }, metadata: meta(sender) });
    lastMessage = { seq, messageId };
  }
  return events;
}

async function measure(reader: HistoryReader, ids: string[], query: HistoryQuery, expectTiers: Tier[]) {
  const latency = newHistogram();
  // Warm-up (JIT, connections), not recorded.
  for (let i = 0; i < 50; i++) await reader.read(ids[i % ids.length]!, query);
  // CPU time of this process per page: less sensitive than wall time to other work on the machine
  // (it leaves out PostgreSQL's and Redis's own CPU).
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < readsPerTier; i++) {
    const started = process.hrtime.bigint();
    const page = await reader.read(ids[(i * 7919) % ids.length]!, query);
    latency.recordValue(Math.max(1, microsSince(started)));
    if (page.items.length !== PAGE || page.tiers.join() !== expectTiers.join()) {
      throw new Error(`page ${JSON.stringify(query)} came from ${page.tiers.join()} with ${page.items.length} items`);
    }
  }
  const cpu = process.cpuUsage(cpuBefore);
  return { ...percentilesMs(latency), clientCpuMsPerPage: Math.round(((cpu.user + cpu.system) / readsPerTier) * 10) / 10000 };
}

async function main(): Promise<void> {
  const postgres = await startBenchPostgres();
  const redisServer = await startOwnRedis();
  const pool = new pg.Pool({ connectionString: postgres.connectionString, max: 8 });
  const store = createPostgresEventStore({ pool, notify: false });
  const redis = new Redis(redisServer.url);
  try {
    const ids = Array.from({ length: conversations }, () => randomUUID());
    process.stderr.write(`writing ${conversations} conversations x ${itemsPerConversation} items\n`);
    for (const c of ids) {
      const events = conversationEvents(c);
      for (let i = 0; i < events.length; i += 100) await store.append(conversationStreamId(c), events.slice(i, i + 100), i === 0 ? 'no_stream' : i - 1);
    }
    const head = await store.headPosition();
    await ensureProjectionSchemas(pool, [membershipProjection, timelineProjection]);
    await createProjectionRunner({ pool, store, fanoutLimit: 500, projections: [membershipProjection, timelineProjection] }).catchUp();

    // Hot projection throughput: a full build from position 0, memory then Redis.
    const throughput = async (kind: 'memory' | 'redis') => {
      const hot = kind === 'memory' ? createMemoryHotStore() : await createRedisHotStore({ url: redisServer.url, prefix: '{bench}' });
      const started = process.hrtime.bigint();
      await createHotProjection({ store, hot, maxItems: HOT_ITEMS }).catchUp();
      const seconds = microsSince(started) / 1e6;
      return { hot, eventsPerSecond: Math.round(Number(head) / seconds), seconds: Math.round(seconds * 100) / 100 };
    };
    const memoryBuild = await throughput('memory');
    const memoryBefore = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
    const redisBuild = await throughput('redis');
    const memoryAfter = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
    const hot = redisBuild.hot;
    const { epoch } = await hot.window(ids[0]!);
    const sampleKeys = ['i', 'w', 'p'].map((k) => `{bench}:e${epoch}:${k}:${ids[0]}`);
    const usage = await Promise.all(sampleKeys.map(async (key) => Number((await redis.call('MEMORY', 'USAGE', key)) ?? 0)));

    // Drop June from warm: its pages are read cold.
    const tierReport = await runTierJob({ pool, store, settings: { hotItems: HOT_ITEMS, hotMaxAgeDays: 7, warmRetentionDays: 90 } });
    const reader = createHistoryReader({ db: pool, store, hot, patchHorizonMs: DAY });
    const lo = itemsPerConversation - HOT_ITEMS + 1;
    const result = {
      scenario: 'tiers',
      machine: machine(),
      log: { conversations, itemsPerConversation, events: Number(head), hotItemsPerConversation: HOT_ITEMS },
      warmPartitionsDropped: tierReport.warm.dropped,
      page50: {
        hot: await measure(reader, ids, { limit: PAGE }, ['hot']),
        warm: await measure(reader, ids, { before: lo, limit: PAGE }, ['warm']),
        cold: await measure(reader, ids, { before: OLD_ITEMS - 49, limit: PAGE }, ['cold']),
        straddlingHotWarm: await measure(reader, ids, { before: lo + 25, limit: PAGE }, ['hot', 'warm']),
      },
      hotProjection: { memoryEventsPerSecond: memoryBuild.eventsPerSecond, redisEventsPerSecond: redisBuild.eventsPerSecond, redisSeconds: redisBuild.seconds },
      redisMemory: {
        usedMemoryDeltaBytes: memoryAfter - memoryBefore,
        bytesPerConversation: Math.round((memoryAfter - memoryBefore) / conversations),
        memoryUsageOfOneConversation: { items: usage[0], window: usage[1], patches: usage[2], total: usage.reduce((a, b) => a + b, 0) },
      },
      loadAverageAfter: machine().loadAverage,
    };
    console.log(JSON.stringify(result, null, 2));
    await hot.close();
  } finally {
    redis.disconnect();
    await store.close();
    await pool.end();
    await redisServer.stop();
    await postgres.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
