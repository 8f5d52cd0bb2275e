// The per-user rate limit with its Redis store against a real redis-server (REDIS_URL; .ci/run starts one
// with scripts/start-redis.sh): each user has their own budget, and two API nodes built on the same Redis
// share it, because the counter lives in Redis and nowhere else. Without REDIS_URL the suite is skipped.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { createCommandHandler } from '../../src/app/commandHandler.js';
import { DEFAULT_LIMITS } from '../../src/domain/limits.js';
import { connectTestRedis, REDIS_SKIP_REASON, testRedisUrl, uniqueTestId } from '../support/redis.js';
import { createApiHarness, problemOf, type ApiHarness } from './apiHarness.js';

const redisUrl = testRedisUrl();
if (!redisUrl) console.warn(REDIS_SKIP_REASON);

const LIMIT = 4;
const WINDOW_MS = 60_000;
/** Where a user's counter lives: the nameSpace src/api/plugins/rateLimit.ts gives the plugin, then its key. */
const counterKey = (userId: string): string => `missive-ratelimit-user:${userId}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

(redisUrl ? describe : describe.skip)(redisUrl ? 'per-user rate limit counted in a shared Redis' : REDIS_SKIP_REASON, () => {
  let h: ApiHarness;
  let redis: Redis;
  let nodeOne: FastifyInstance;
  let nodeTwo: FastifyInstance;

  const getUnread = async (node: FastifyInstance, userId: string): Promise<LightMyRequestResponse> =>
    node.inject({ method: 'GET', url: '/v1/unread', headers: { authorization: `Bearer ${await h.tokenFor(userId)}` } });

  /** The status codes of `count` requests in a row, `nodes` taking turns. */
  async function statusesOf(userId: string, count: number, nodes: FastifyInstance[]): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) statuses.push((await getUnread(nodes[i % nodes.length]!, userId)).statusCode);
    return statuses;
  }

  /**
   * A node's Redis client connects in the background, and until it has, the limiter lets requests through
   * uncounted (it fails open): wait, at most 5 s, until a throw-away user's request shows up in Redis.
   */
  async function untilCountingInRedis(node: FastifyInstance): Promise<void> {
    const probe = uniqueTestId('probe');
    for (const deadline = Date.now() + 5_000; Date.now() < deadline; ) {
      await getUnread(node, probe);
      if ((await redis.exists(counterKey(probe))) === 1) return;
      await sleep(20);
    }
    throw new Error('the node counted no request in Redis within 5 s');
  }

  /** One more API node on the harness's database and the shared Redis, as another server process would be. */
  async function startNode(): Promise<FastifyInstance> {
    const node = await buildApp({
      config: { ...h.config, redisUrl },
      commands: createCommandHandler({ store: h.store, limits: DEFAULT_LIMITS }),
      pool: h.db.pool,
      store: h.store,
      tokens: h.tokens,
      projections: h.runner,
      options: { rateLimitMax: LIMIT, rateLimitWindowMs: WINDOW_MS },
    });
    await untilCountingInRedis(node);
    return node;
  }

  beforeAll(async () => {
    h = await createApiHarness();
    redis = await connectTestRedis(redisUrl!);
    nodeOne = await startNode();
    nodeTwo = await startNode();
  });
  afterAll(async () => {
    await nodeOne?.close();
    await nodeTwo?.close();
    redis?.disconnect();
    await h?.close();
  });

  it('limits each user on their own budget, with 429 rate_limited and Retry-After', async () => {
    const [ada, bob] = [uniqueTestId('ada'), uniqueTestId('bob')];
    expect(await statusesOf(ada, LIMIT, [nodeOne])).toEqual(Array(LIMIT).fill(200));
    const limited = await getUnread(nodeOne, ada);
    expect(limited.statusCode).toBe(429);
    expect(problemOf(limited).code).toBe('rate_limited');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);
    expect((await getUnread(nodeOne, bob)).statusCode).toBe(200);
  });

  it('shares one budget across nodes: requests split over two nodes are refused at the limit in total', async () => {
    const [ada, bob] = [uniqueTestId('ada'), uniqueTestId('bob')];
    expect(await statusesOf(ada, LIMIT, [nodeOne, nodeTwo])).toEqual(Array(LIMIT).fill(200));
    expect(await statusesOf(ada, 2, [nodeOne, nodeTwo])).toEqual([429, 429]);
    const bobOnTwo = await getUnread(nodeTwo, bob);
    expect(bobOnTwo.statusCode).toBe(200);
    expect(bobOnTwo.headers['x-ratelimit-remaining']).toBe(String(LIMIT - 1));

    // One counter per user in Redis, every request (the refused ones too) counted, expiring with the window.
    expect(await redis.keys(`*${ada}*`)).toEqual([counterKey(ada)]);
    expect(await redis.get(counterKey(ada))).toBe(String(LIMIT + 2));
    const ttl = await redis.pttl(counterKey(ada));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(WINDOW_MS);
  });

  it('keeps no count in the node: deleting the Redis key gives the user a fresh budget on every node', async () => {
    const ada = uniqueTestId('ada');
    await statusesOf(ada, LIMIT, [nodeOne]);
    expect((await getUnread(nodeTwo, ada)).statusCode).toBe(429);
    expect(await redis.del(counterKey(ada))).toBe(1);
    expect(await statusesOf(ada, 2, [nodeOne, nodeTwo])).toEqual([200, 200]);
    expect(await redis.get(counterKey(ada))).toBe('2');
  });
});
