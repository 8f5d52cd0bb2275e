// Session reads from the hot tier vs warm: the conversation list head (first page of 50) and the
// unread summary, through the sessions reader (src/tiers/tieredSessions.ts), not HTTP; and the hot
// projection's build throughput now that it also folds session rows and unread.
//   node --import tsx bench/sessionTiers.ts [users=100] [conversations=2500] [messagesPerConversation=20] [reads=2000]
// Runs on a throw-away embedded PostgreSQL and its own redis-server (loopback, no persistence). Direct
// conversations between distinct random pairs of users (~50 per user by default), messages alternating
// senders, half the users read each conversation halfway. Prints a JSON summary.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { conversationStreamId, userStreamId } from '../src/domain/streams.js';
import { createProjectionRunner, ensureProjectionSchemas, membershipProjection, sessionsProjection } from '../src/projections/index.js';
import type { NewEvent } from '../src/store/eventStore.js';
import { createPostgresEventStore } from '../src/store/postgres/postgresEventStore.js';
import { createHotProjection } from '../src/tiers/hotProjection.js';
import { createRedisHotStore } from '../src/tiers/redisHotStore.js';
import { createSessionsReader, type SessionsReader, type SessionTier } from '../src/tiers/tieredSessions.js';
import { startOwnRedis } from '../test/support/ownRedis.js';
import { machine, microsSince, newHistogram, percentilesMs, startBenchPostgres } from './support.js';

const users = Number(process.argv[2] ?? 100);
const conversations = Number(process.argv[3] ?? 2500);
const messages = Number(process.argv[4] ?? 20);
const reads = Number(process.argv[5] ?? 2000);
const PAGE = 50;

const meta = (actorId: string) => ({ actorId, schemaVersion: 1 });

async function measure(readers: SessionsReader, userIds: string[], view: 'list' | 'unread', tier: SessionTier) {
  const latency = newHistogram();
  const once = async (u: string) => (view === 'list' ? readers.list(u, { limit: PAGE }) : readers.unread(u));
  for (let i = 0; i < 50; i++) await once(userIds[i % userIds.length]!); // warm-up, not recorded
  for (let i = 0; i < reads; i++) {
    const started = process.hrtime.bigint();
    const answer = await once(userIds[(i * 7919) % userIds.length]!);
    latency.recordValue(Math.max(1, microsSince(started)));
    if (answer.tier !== tier) throw new Error(`${view} came from ${answer.tier}, expected ${tier}`);
  }
  return percentilesMs(latency);
}

async function main(): Promise<void> {
  const postgres = await startBenchPostgres();
  const redisServer = await startOwnRedis();
  const pool = new pg.Pool({ connectionString: postgres.connectionString, max: 8 });
  const store = createPostgresEventStore({ pool, notify: false });
  try {
    const userIds = Array.from({ length: users }, () => randomUUID());
    const pairs = new Set<string>();
    while (pairs.size < Math.min(conversations, (users * (users - 1)) / 2)) {
      const a = Math.floor(Math.random() * users);
      const b = Math.floor(Math.random() * users);
      if (a !== b) pairs.add(`${Math.min(a, b)}:${Math.max(a, b)}`);
    }
    process.stderr.write(`writing ${pairs.size} conversations x ${messages} messages among ${users} users\n`);
    const start = Date.now() - 3_600_000;
    let n = 0;
    for (const pair of pairs) {
      const [a, b] = pair.split(':').map((i) => userIds[Number(i)]!) as [string, string];
      const c = randomUUID();
      const at = () => new Date(start + n++ * 10).toISOString();
      const events: NewEvent[] = [
        { eventId: randomUUID(), type: 'DirectConversationOpened', data: { conversationId: c, memberIds: [a, b], openedBy: a, openedAt: at() }, metadata: meta(a) },
      ];
      for (let i = 0; i < messages; i++) {
        const sender = i % 2 ? a : b;
        events.push({ eventId: randomUUID(), type: 'MessageSent', data: { messageId: randomUUID(), senderId: sender, clientMsgId: randomUUID(), kind: 'text', body: { text: `message ${i}, a typical short chat line` }, sentAt: at() }, metadata: meta(sender) });
      }
      await store.append(conversationStreamId(c), events, 'no_stream');
      await store.append(userStreamId(a), [{ eventId: randomUUID(), type: 'ConversationRead', data: { conversationId: c, seq: Math.floor(messages / 2), deviceId: 'd', readAt: at() }, metadata: meta(a) }], 'any');
    }
    const head = await store.headPosition();
    await ensureProjectionSchemas(pool, [membershipProjection, sessionsProjection]);
    let started = process.hrtime.bigint();
    await createProjectionRunner({ pool, store, fanoutLimit: 500, projections: [membershipProjection, sessionsProjection] }).catchUp();
    const warmSeconds = microsSince(started) / 1e6;

    const hot = await createRedisHotStore({ url: redisServer.url, prefix: '{bench}' });
    started = process.hrtime.bigint();
    await createHotProjection({ store, hot }).catchUp();
    const hotSeconds = microsSince(started) / 1e6;

    const hotReader = createSessionsReader({ db: pool, hot });
    const warmReader = createSessionsReader({ db: pool });
    const sample = userIds[0]!;
    const [h, w] = [await hotReader.list(sample, { limit: PAGE }), await warmReader.list(sample, { limit: PAGE })];
    const differing = h.items.findIndex((item, i) => !isDeepStrictEqual(item, w.items[i])); // jsonb reorders keys
    if (differing >= 0 || h.items.length !== w.items.length) throw new Error(`hot and warm heads differ at ${differing}: ${JSON.stringify([h.items[differing], w.items[differing]])}`);
    const result = {
      scenario: 'sessionTiers',
      machine: machine(),
      log: { users, conversations: pairs.size, messagesPerConversation: messages, events: Number(head), rowsPerUser: Math.round((2 * pairs.size) / users) },
      listHead50: { hot: await measure(hotReader, userIds, 'list', 'hot'), warm: await measure(warmReader, userIds, 'list', 'warm') },
      unread: { hot: await measure(hotReader, userIds, 'unread', 'hot'), warm: await measure(warmReader, userIds, 'unread', 'warm') },
      build: {
        hotProjectionEventsPerSecond: Math.round(Number(head) / hotSeconds),
        warmMembershipAndSessionsEventsPerSecond: Math.round(Number(head) / warmSeconds),
      },
      loadAverageAfter: machine().loadAverage,
    };
    console.log(JSON.stringify(result, null, 2));
    await hot.close();
  } finally {
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
