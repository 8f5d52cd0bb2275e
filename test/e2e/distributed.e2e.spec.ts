// The distributed topology end to end on loopback, every node a real `missive serve --role ...`
// process: two api+gateway nodes, two projector workers (a Kafka consumer group), one relay, over
// PostgreSQL and Kafka. Users on different nodes chat in direct and group conversations; mid-run one
// projector and one api+gateway node are SIGKILLed, and the clients of the dead node retry on the
// other (same clientMsgId). Afterwards every member's sync holds every message exactly once, each
// conversation's items in seq order without a gap, and unread counts equal what was sent to them.
// (Hints over WebSocket across nodes need the gateway routing in Redis; this test pulls.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMissive, type RunningCli } from '../cli/cliProcess.js';
import { freePort } from '../support/globalSetup.js';
import { distributedServeEnv, KAFKA_SKIP_REASON, testKafkaBrokers, uniqueTopic } from '../support/kafka.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const brokers = testKafkaBrokers();
if (!brokers) console.warn(KAFKA_SKIP_REASON);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const USERS = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'];
const MESSAGES_PER_MEMBER = 8;

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

async function call(base: string, token: string | undefined, method: string, url: string, body?: unknown): Promise<Reply> {
  const response = await fetch(base + url, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

interface SyncItem {
  type: string;
  conversationId: string;
  seq: number;
  item?: { kind?: string; senderId?: string; body?: { text?: string } };
}

(brokers ? describe : describe.skip)(brokers ? 'distributed: 2 api+gateway, 2 projectors, a relay, over Kafka and PostgreSQL' : KAFKA_SKIP_REASON, () => {
  let db: TestDatabase;
  const nodes = new Map<string, RunningCli>();

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    for (const node of nodes.values()) if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
    await Promise.all([...nodes.values()].map((node) => node.exited));
    await db?.drop();
  });

  it('every member ends with every message exactly once in seq order, and exact unread counts', async () => {
    const topic = uniqueTopic('e2e');
    const env = distributedServeEnv({ databaseUrl: db.url, brokers: brokers!, topic, jwtSecret: 'distributed-e2e-secret-0123456789' });
    const [portA, portB] = [await freePort(), await freePort()];
    const start = (name: string, roles: string, port = 0) => nodes.set(name, startMissive(['serve', '--role', roles], { ...env, PORT: String(port), MISSIVE_NODE_ID: name }));
    start('relay', 'relay');
    start('projector-1', 'projector');
    start('projector-2', 'projector');
    start('a', 'api,gateway', portA);
    start('b', 'api,gateway', portB);
    for (const node of nodes.values()) await node.waitForOutput(/"msg":"missive serving"/, 90_000);
    // Both projectors run some projections (4 partitions, 2 members: each gets 2), so the kill below matters.
    for (const name of ['projector-1', 'projector-2']) await nodes.get(name)!.waitForOutput(/"projections":\["[^"]+".*"msg":"projector ownership changed"/, 60_000);
    const bases = { a: `http://127.0.0.1:${portA}`, b: `http://127.0.0.1:${portB}` };

    const tokens = new Map<string, string>();
    for (const user of USERS) tokens.set(user, (await call(bases.a, undefined, 'POST', '/v1/dev/token', { userId: user })).body['token'] as string);
    // Each user's first sync, before any conversation exists: later pulls return everything.
    const syncTokens = new Map<string, string>();
    for (const user of USERS) syncTokens.set(user, (await call(bases.a, tokens.get(user), 'GET', '/v1/sync')).body['nextToken'] as string);

    const conversations: Array<{ id: string; members: string[] }> = [];
    for (const [a, b] of [['u1', 'u2'], ['u3', 'u4'], ['u1', 'u5'], ['u6', 'u2']] as const) {
      const opened = await call(bases.a, tokens.get(a), 'POST', '/v1/conversations/direct', { peerId: b });
      conversations.push({ id: opened.body['conversationId'] as string, members: [a, b] });
    }
    for (const members of [USERS, ['u2', 'u4', 'u6']]) {
      const created = await call(bases.b, tokens.get(members[0]!), 'POST', '/v1/groups', { name: `group of ${members.length}`, memberIds: members.slice(1) });
      expect(created.status).toBe(201);
      conversations.push({ id: created.body['conversationId'] as string, members });
    }

    // Odd users talk to node a, even users to node b; a client whose node died retries on the other.
    let bAlive = true;
    const sends = conversations.flatMap((c) => c.members.flatMap((sender) => Array.from({ length: MESSAGES_PER_MEMBER }, (_, i) => ({ conversation: c, sender, clientMsgId: `${sender}-${c.id}-${i}` }))));
    let acked = 0;
    const total = sends.length;
    const sendOne = async (send: (typeof sends)[number]) => {
      const preferred = Number(send.sender.slice(1)) % 2 === 1 ? 'a' : 'b';
      for (let attempt = 0; attempt < 20; attempt++) {
        const node = preferred === 'b' && bAlive ? 'b' : 'a';
        try {
          const reply = await call(bases[node], tokens.get(send.sender), 'POST', `/v1/conversations/${send.conversation.id}/messages`, { clientMsgId: send.clientMsgId, kind: 'text', body: { text: send.clientMsgId } });
          if (reply.status === 201 || reply.status === 200) {
            acked++;
            return;
          }
          throw new Error(`send answered ${reply.status} ${JSON.stringify(reply.body)}`);
        } catch (error) {
          if (node === 'a' || attempt === 19) throw error;
          await sleep(50);
        }
      }
    };
    const perSender = USERS.map((user) => sends.filter((s) => s.sender === user));
    const load = Promise.all(perSender.map(async (mine) => {
      for (const send of mine) await sendOne(send);
    }));
    const killer = (async () => {
      while (acked < total / 3) await sleep(20);
      nodes.get('projector-1')!.child.kill('SIGKILL');
      while (acked < (2 * total) / 3) await sleep(20);
      bAlive = false;
      nodes.get('b')!.child.kill('SIGKILL');
    })();
    await Promise.all([load, killer]);
    expect(acked).toBe(total);

    // Pull until each member has every message (the surviving projector takes over after the session timeout).
    for (const user of USERS) {
      const mine = conversations.filter((c) => c.members.includes(user));
      const expectedMessages = mine.reduce((n, c) => n + c.members.length * MESSAGES_PER_MEMBER, 0);
      const expectedUnread = mine.reduce((n, c) => n + (c.members.length - 1) * MESSAGES_PER_MEMBER, 0);
      let token = syncTokens.get(user)!;
      const items: SyncItem[] = [];
      let unreadTotal = -1;
      const deadline = Date.now() + 60_000;
      for (;;) {
        const page = await call(bases.a, tokens.get(user), 'GET', `/v1/sync?since=${encodeURIComponent(token)}&limit=200`);
        expect(page.status).toBe(200);
        items.push(...(page.body['items'] as SyncItem[]));
        token = page.body['nextToken'] as string;
        unreadTotal = page.body['unreadTotal'] as number;
        if (page.body['hasMore']) continue;
        const messages = items.filter((i) => i.type === 'item' && i.item?.kind === 'text').length;
        if (messages >= expectedMessages && unreadTotal === expectedUnread) break;
        if (Date.now() > deadline) break;
        await sleep(200);
      }
      const messageTexts = items.filter((i) => i.type === 'item' && i.item?.kind === 'text').map((i) => i.item!.body!.text!);
      const expectedTexts = sends.filter((s) => s.conversation.members.includes(user)).map((s) => s.clientMsgId);
      expect(messageTexts.sort(), `${user}: every message exactly once`).toEqual(expectedTexts.sort());
      for (const c of mine) {
        const seqs = items.filter((i) => i.type === 'item' && i.conversationId === c.id).map((i) => i.seq);
        expect(seqs, `${user} in ${c.id}: items in seq order, no gap`).toEqual(seqs.map((_, k) => k + 1));
      }
      expect(unreadTotal, `${user}: unread total`).toBe(expectedUnread);
      // /v1/unread may be served by the hot tier, which follows the log on its own (milliseconds behind
      // or ahead of warm): wait for it like for sync, then check every count.
      let unread = await call(bases.a, tokens.get(user), 'GET', '/v1/unread');
      while (unread.body['total'] !== expectedUnread && Date.now() < deadline + 10_000) {
        await sleep(100);
        unread = await call(bases.a, tokens.get(user), 'GET', '/v1/unread');
      }
      const perConversation = Object.fromEntries((unread.body['conversations'] as Array<{ conversationId: string; unread: number }>).map((r) => [r.conversationId, r.unread]));
      for (const c of mine) expect(perConversation[c.id] ?? 0, `${user} unread in ${c.id}`).toBe((c.members.length - 1) * MESSAGES_PER_MEMBER);
    }
  }, 240_000);
});
