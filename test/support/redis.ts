// The real Redis that .ci/run starts (scripts/start-redis.sh) for tests of code that keeps shared state
// there. Tests read REDIS_URL here and nowhere else, and skip with REDIS_SKIP_REASON when it is unset.
// Several runs may share one server: tests name their keys with uniqueTestId() instead of flushing.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_SKIP_REASON = 'SKIPPED: REDIS_URL is not set; .ci/run starts redis-server and sets it';

export const testRedisUrl = (): string | undefined => process.env['REDIS_URL'] || undefined;

/** A client to inspect what the code under test stored; resolves once connected, rejects if it cannot. */
export async function connectTestRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 1 });
  await redis.connect();
  return redis;
}

/** An id (a valid user id too) that no other run shares, so runs against one Redis never count into each other. */
export const uniqueTestId = (name: string): string => `${name}-${randomUUID()}`;
