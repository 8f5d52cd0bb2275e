// Per-user rate limiting for the /v1 scope: keyed by the authenticated user (by IP for the few public
// routes), counted in Redis when one is configured so every API node shares the budget, in memory
// otherwise. A Redis outage lets requests through rather than taking the API down with it.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { Redis } from 'ioredis';
import { ApiError } from '../errors.js';

export interface RateLimitSettings {
  max: number;
  windowMs: number;
  redisUrl: string | undefined;
}

const keyOf = (request: FastifyRequest): string => (request.identity ? `user:${request.identity.userId}` : `ip:${request.ip}`);

/** Register after the auth hook: the limit runs right after authentication, before the body is parsed. */
export async function installRateLimit(app: FastifyInstance, settings: RateLimitSettings): Promise<void> {
  const redis = settings.redisUrl
    ? new Redis(settings.redisUrl, { connectTimeout: 1_000, maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true })
    : undefined;
  if (redis) {
    redis.on('error', (error) => app.log.warn({ err: error }, 'rate-limit redis error'));
    // Connect before serving: with no offline queue, requests served while connecting would go uncounted.
    await redis.connect().catch((error: unknown) => app.log.warn({ err: error }, 'rate-limit redis unreachable at start; requests pass until it is back'));
    app.addHook('onClose', async () => {
      redis.disconnect();
    });
  }
  await app.register(rateLimit, {
    max: settings.max,
    timeWindow: settings.windowMs,
    hook: 'onRequest',
    keyGenerator: keyOf,
    redis,
    nameSpace: 'missive-ratelimit-',
    skipOnError: true,
    errorResponseBuilder: (_request, context) => new ApiError('rate_limited', `Rate limit exceeded, retry in ${context.after}`),
  });
}
