// Gateways on two nodes, end to end: two `missive serve` child processes share one PostgreSQL and one
// Redis (REDIS_URL; .ci/run starts it). Node A runs every role (its projector learns whose views advanced);
// node B runs api,gateway only. A send on A hints the recipient whose socket is on B, who pulls the message
// from B; B's channel carries hints only for the users it holds; presence reads the same on both nodes;
// a killed node's routes expire within the presence ttl. A test Redis client subscribes to both nodes'
// hint channels to see what travels between them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { connect, type TestClient } from '../gateway/gatewayHarness.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { connectTestRedis, REDIS_SKIP_REASON, testRedisUrl, uniqueTestId } from '../support/redis.js';
import { callApi, devToken, startServeNode, type ServeNode } from '../support/serveNode.js';

const redisUrl = testRedisUrl();
if (!redisUrl) console.warn(REDIS_SKIP_REASON);
// Short enough to watch a node expire, long enough (heartbeat every second) that a loaded CI machine does
// not stall a live node into looking dead.
const TTL_MS = 3_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  let value = await read();
  for (const deadline = Date.now() + timeoutMs; !accept(value) && Date.now() < deadline; value = await read()) await sleep(50);
  return value;
}

(redisUrl ? describe : describe.skip)(redisUrl ? 'gateways on two nodes sharing Redis and PostgreSQL' : REDIS_SKIP_REASON, () => {
  const keyPrefix = `${uniqueTestId('gwcluster')}:`;
  const nodeIdA = uniqueTestId('a').slice(0, 20);
  const nodeIdB = uniqueTestId('b').slice(0, 20);
  const user = (name: string) => uniqueTestId(name).slice(0, 30);
  const [alice, bob, carol, dave] = ['alice', 'bob', 'carol', 'dave'].map(user) as [string, string, string, string];
  let db: TestDatabase;
  let nodeA: ServeNode;
  let nodeB: ServeNode;
  let observer: Redis;
  /** Every hint that went through Redis: the channel's node id (MISSIVE_NODE_ID part) and its users. */
  const published: Array<{ node: string; users: string[] }> = [];
  const tokens = new Map<string, string>();
  const sockets: TestClient[] = [];

  const presenceOn = async (node: ServeNode, userIds: string[]) =>
    (await callApi(node.base, tokens.get(alice)!, 'GET', `/v1/presence?userIds=${userIds.join(',')}`)).body.items as Array<{
      userId: string;
      online: boolean;
      lastSeen: string | null;
    }>;
  const socketOf = async (node: ServeNode, userId: string) => {
    const client = await connect(node.wsUrl, { headers: { authorization: `Bearer ${tokens.get(userId)}` } });
    sockets.push(client);
    return client;
  };
  const hints = (client: TestClient, from = 0) => client.frames.slice(from).filter((f) => f.type === 'sync').length;

  beforeAll(async () => {
    db = await createTestDatabase();
    const shared = { DATABASE_URL: db.url, REDIS_URL: redisUrl!, MISSIVE_REDIS_KEY_PREFIX: keyPrefix, MISSIVE_PRESENCE_TTL_MS: String(TTL_MS) };
    nodeA = await startServeNode({ ...shared, MISSIVE_NODE_ID: nodeIdA });
    nodeB = await startServeNode({ ...shared, MISSIVE_NODE_ID: nodeIdB, MISSIVE_ROLES: 'api,gateway' });
    observer = await connectTestRedis(redisUrl!);
    observer.on('pmessage', (_pattern: string, channel: string, message: string) => {
      published.push({ node: channel.slice(`${keyPrefix}hints:`.length).split('/')[0]!, users: JSON.parse(message) as string[] });
    });
    await observer.psubscribe(`${keyPrefix}hints:*`);
    for (const id of [alice, bob, carol, dave]) tokens.set(id, await devToken(nodeA.base, id));
  }, 150_000);

  afterAll(async () => {
    for (const s of sockets) s.ws.terminate();
    await Promise.all([nodeA?.stop(), nodeB?.kill()]);
    await observer?.quit();
    await db?.drop();
  }, 30_000);

  it('hints a recipient on the other node, who pulls the message there; a node is hinted only for the users it holds', async () => {
    const aliceWs = await socketOf(nodeA, alice);
    const carolWs = await socketOf(nodeA, carol);
    const bobWs = await socketOf(nodeB, bob);
    const daveWs = await socketOf(nodeB, dave);
    // Registration in Redis follows the handshake: wait until both nodes see everyone.
    const everyone = [alice, bob, carol, dave];
    await eventually(() => presenceOn(nodeB, everyone), (items) => items.every((i) => i.online));
    expect((await presenceOn(nodeA, everyone)).map((i) => i.online)).toEqual([true, true, true, true]);

    const withBob = (await callApi(nodeA.base, tokens.get(alice)!, 'POST', '/v1/conversations/direct', { peerId: bob })).body.conversationId as string;
    const withCarol = (await callApi(nodeA.base, tokens.get(alice)!, 'POST', '/v1/conversations/direct', { peerId: carol })).body.conversationId as string;
    // Bob's starting point, once the conversation reached his views; then let the opening's hints pass.
    const first = await eventually(
      () => callApi(nodeB.base, tokens.get(bob)!, 'GET', '/v1/sync'),
      (r) => (r.body.conversations as Array<{ conversationId: string }>).some((c) => c.conversationId === withBob),
    );
    await sleep(500);
    const bobMark = bobWs.frames.length;
    const carolMark = carolWs.frames.length;
    const publishedMark = published.length;

    const ack = await aliceWs.request({ op: 'send', id: 1, conversationId: withBob, clientMsgId: 'm1', kind: 'text', body: { text: 'hi bob, from A' } });
    expect(ack).toMatchObject({ type: 'send.ack' });
    // As a client does: pull on every hint (a late hint of the opening may come first) until the message is in.
    let token = first.body.nextToken as string;
    const texts: string[] = [];
    for (let seen = bobMark, deadline = Date.now() + 15_000; !texts.includes('hi bob, from A') && Date.now() < deadline; ) {
      await bobWs.waitFor((f) => f.type === 'sync', { from: seen, timeoutMs: Math.max(1, deadline - Date.now()) });
      seen = bobWs.frames.length;
      const delta = await callApi(nodeB.base, tokens.get(bob)!, 'GET', `/v1/sync?since=${encodeURIComponent(token)}`);
      token = delta.body.nextToken;
      for (const i of delta.body.items as Array<{ item?: { body?: { text?: string } } }>) if (i.item?.body?.text) texts.push(i.item.body.text);
    }
    expect(texts).toEqual(['hi bob, from A']);

    await aliceWs.request({ op: 'send', id: 2, conversationId: withCarol, clientMsgId: 'm2', kind: 'text', body: { text: 'hi carol' } });
    await carolWs.waitFor((f) => f.type === 'sync', { from: carolMark, timeoutMs: 10_000 });
    expect(hints(bobWs, bobMark)).toBeGreaterThanOrEqual(1);
    await sleep(300); // a stray hint to B for alice or carol would have arrived by now

    // Only bob's hints went through Redis, and only to B: A's own users were hinted in-process.
    const since = published.slice(publishedMark);
    expect(since.length).toBeGreaterThanOrEqual(1);
    expect(new Set(since.map((p) => p.node))).toEqual(new Set([nodeIdB]));
    expect(new Set(since.flatMap((p) => p.users))).toEqual(new Set([bob]));
    // Across the whole run nothing was routed to B but bob: not A's users, and not dave, who is in no
    // conversation. (Dave's socket may still see a hint if B, stalled past the ttl on a loaded machine,
    // rejoins: a rejoining node hints all its sockets once. Routing is what this asserts.)
    expect(published.filter((p) => p.node === nodeIdB).flatMap((p) => p.users).filter((u) => u !== bob)).toEqual([]);
    expect(hints(daveWs)).toBeLessThanOrEqual(1);
  });

  it('answers the same presence on both nodes, and a disconnect on one shows on the other', async () => {
    const erin = user('erin');
    tokens.set(erin, await devToken(nodeA.base, erin));
    expect((await presenceOn(nodeA, [erin]))[0]).toEqual({ userId: erin, online: false, lastSeen: null });
    const erinWs = await socketOf(nodeB, erin);
    const online = await eventually(() => presenceOn(nodeA, [erin]), (items) => items[0]!.online);
    expect(online[0]).toMatchObject({ online: true });
    const before = Date.now();
    erinWs.ws.close();
    await erinWs.closed;
    const offline = await eventually(() => presenceOn(nodeA, [erin]), (items) => !items[0]!.online);
    expect(offline[0]).toMatchObject({ online: false });
    expect(Date.parse(offline[0]!.lastSeen!)).toBeGreaterThanOrEqual(before - 1_000);
    expect(await presenceOn(nodeB, [erin])).toEqual(offline);
  });

  it("expires a killed node's routes within the presence ttl, and stops routing hints to it", async () => {
    expect((await presenceOn(nodeA, [bob, dave])).map((i) => i.online)).toEqual([true, true]);
    const inspector = await connectTestRedis(redisUrl!);
    try {
      const members = await inspector.zrange(`${keyPrefix}nodes`, '0', '-1');
      const routingIdB = members.find((m) => m.startsWith(`${nodeIdB}/`));
      expect(routingIdB).toBeDefined();

      const killedAt = Date.now();
      await nodeB.kill();
      const offline = await eventually(() => presenceOn(nodeA, [bob, dave]), (items) => items.every((i) => !i.online), TTL_MS + 10_000);
      const expiredAfter = Date.now() - killedAt;
      expect(offline.map((i) => i.online)).toEqual([false, false]);
      // Within the ttl, plus one poll and scheduling slack on a loaded machine.
      expect(expiredAfter).toBeLessThan(TTL_MS + 1_500);
      // Last seen is B's last heartbeat: at most one heartbeat interval (ttl/3) before the kill.
      expect(Date.parse(offline[0]!.lastSeen!)).toBeGreaterThan(killedAt - TTL_MS);

      // A's heartbeats sweep B's records, and hints for bob go nowhere now.
      await eventually(() => inspector.zscore(`${keyPrefix}nodes`, routingIdB!), (score) => score === null);
      expect(await inspector.exists(`${keyPrefix}node:${routingIdB}:sockets`, `${keyPrefix}sockets:${bob}`)).toBe(0);
      const publishedMark = published.length;
      const withBob = (await callApi(nodeA.base, tokens.get(alice)!, 'POST', '/v1/conversations/direct', { peerId: bob })).body.conversationId as string;
      const sent = await callApi(nodeA.base, tokens.get(alice)!, 'POST', `/v1/conversations/${withBob}/messages`, { clientMsgId: 'after-kill', kind: 'text', body: { text: 'are you there?' } });
      expect(sent.status).toBe(201);
      await sleep(1_000);
      expect(published.slice(publishedMark)).toEqual([]);
    } finally {
      await inspector.quit();
    }
  });
});
