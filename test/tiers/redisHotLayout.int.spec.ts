// A hot tier written by an older version (no `layout` in its meta: history only, no session keys) must
// not be continued: it reads as no state, the next reset replaces it (sweeping its keys), and session
// reads never answer from it.
import { describe, expect, it } from 'vitest';
import { createRedisHotStore } from '../../src/tiers/redisHotStore.js';
import { connectTestRedis, REDIS_SKIP_REASON, testRedisUrl, uniqueTestId } from '../support/redis.js';

const url = testRedisUrl();

describe('Redis hot tier: state of an older layout', () => {
  if (!url) {
    it.skip(REDIS_SKIP_REASON, () => {});
    return;
  }
  it('is no state: replaced and swept by reset, never served to session reads', async () => {
    const prefix = `{${uniqueTestId('hotlayout')}}`;
    const redis = await connectTestRedis(url);
    const hot = await createRedisHotStore({ url, prefix });
    try {
      await redis.hset(`${prefix}:meta`, 'epoch', '7', 'checkpoint', '42', 'ready', '1');
      await redis.hset(`${prefix}:e7:w:c1`, 'lo', '1', 'last', '3');
      expect(await hot.readState()).toBeNull();
      expect(await hot.readSessions('ann')).toEqual({ ready: false, epoch: 0, entries: [] });
      const fresh = await hot.reset();
      expect(fresh).toMatchObject({ checkpoint: 0n, ready: false });
      expect(fresh.epoch).not.toBe(7);
      expect(await redis.exists(`${prefix}:e7:w:c1`)).toBe(0);
      expect(await hot.readState()).toEqual(fresh);
      expect(await hot.reset()).toEqual(fresh); // the current layout is kept
    } finally {
      await hot.close();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });
});
