// The Redis hot tier against the shared test Redis (REDIS_URL, started by .ci/run): every subject gets
// its own key prefix and deletes its keys afterwards; nothing here flushes the server.
import { describe, it } from 'vitest';
import { createRedisHotStore } from '../../src/tiers/redisHotStore.js';
import { describeHotStoreContract } from '../contract/hotStoreContract.js';
import { connectTestRedis, REDIS_SKIP_REASON, testRedisUrl, uniqueTestId } from '../support/redis.js';

const url = testRedisUrl();

if (!url) {
  describe('HotStore contract: redis', () => {
    it.skip(REDIS_SKIP_REASON, () => {});
  });
} else {
  describeHotStoreContract('redis', async () => {
    const prefix = `{${uniqueTestId('hot')}}`;
    const hot = await createRedisHotStore({ url, prefix });
    return {
      hot,
      async dispose() {
        await hot.close();
        const redis = await connectTestRedis(url);
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      },
    };
  });
}
