// The presence contract on the Redis adapter against the real redis-server of REDIS_URL (.ci/run starts
// one), plus what only Redis can show: a dead node's keys are deleted, not merely ignored. Each cluster
// has its own key prefix, so runs sharing the server never see each other's nodes.
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createRedisHintBus } from '../../src/gateway/redisHintBus.js';
import { createRedisPresenceStore, nodeRoutingId } from '../../src/gateway/redisPresence.js';
import { describePresenceContract } from '../contract/presenceContract.js';
import { connectTestRedis, REDIS_SKIP_REASON, testRedisUrl, uniqueTestId } from '../support/redis.js';

const redisUrl = testRedisUrl();
if (!redisUrl) console.warn(REDIS_SKIP_REASON);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Nodes on one prefix, each with its own connection (as separate processes would have). */
async function redisCluster(url: string) {
  const keyPrefix = `${uniqueTestId('presence')}:`;
  const clients: Redis[] = [await connectTestRedis(url)];
  return {
    keyPrefix,
    inspector: clients[0]!,
    async node(name: string, ttlMs: number) {
      const redis = await connectTestRedis(url);
      clients.push(redis);
      const store = createRedisPresenceStore({ redis, nodeId: nodeRoutingId(name), keyPrefix, ttlMs });
      await store.heartbeat();
      return store;
    },
    bus: createRedisHintBus({ redis: clients[0]!, keyPrefix }),
    async dispose() {
      await Promise.all(clients.map((c) => c.quit()));
    },
  };
}

if (redisUrl) {
  describePresenceContract('redis', () => redisCluster(redisUrl));
} else {
  describe.skip(REDIS_SKIP_REASON, () => it('presence store contract: redis', () => undefined));
}

(redisUrl ? describe : describe.skip)(redisUrl ? 'redis presence specifics' : REDIS_SKIP_REASON, () => {
  it('deletes every record of a dead node once a live node has swept it', async () => {
    const cluster = await redisCluster(redisUrl!);
    try {
      const a = await cluster.node('a', 500);
      const b = await cluster.node('b', 500);
      for (let i = 0; i < 600; i++) await b.deviceConnected(`u${i % 300}`, `c${i}`, Date.now()); // more than one sweep batch
      await sleep(800);
      await a.heartbeat();
      const r = cluster.inspector;
      expect(await r.zscore(`${cluster.keyPrefix}nodes`, b.nodeId)).toBeNull();
      expect(await r.exists(`${cluster.keyPrefix}node:${b.nodeId}:sockets`)).toBe(0);
      const leftovers = await Promise.all(Array.from({ length: 300 }, (_, i) => r.exists(`${cluster.keyPrefix}sockets:u${i}`)));
      expect(leftovers.filter((n) => n > 0)).toEqual([]);
      expect(await r.get(`${cluster.keyPrefix}seen:u7`)).not.toBeNull();
    } finally {
      await cluster.dispose();
    }
  });
});
